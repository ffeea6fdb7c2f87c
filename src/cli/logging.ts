/**
 * The loggers the long-running commands write to stderr with, at
 * `--log-level` (default info; `--debug` is debug):
 *
 * - `--log-format json`: pino, one JSON object a line, for a log collector;
 * - `text` (the default): one readable line each, "time LEVEL: message
 *   {fields}", written here directly. pino's own pretty-printer parses
 *   each JSON line back, which costs five times a request's line.
 *
 * Both write through one LineSink: lines in order, written together at
 * the end of each turn of the event loop and at exit. Layers see only
 * util's Logger interface.
 */
import { writeSync } from "node:fs";
import { pino } from "pino";
import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../util/index.js";
import { type LogFormat, type LoggingFlags, loggingChoice } from "./logging-options.js";

/** "2026-12-07 07:01:14.330", in local time. */
function localTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `buf`, as pino's synchronous destination does: a pipe
 * that is full (stderr read slowly) is waited on, a millisecond at a time
 * for at most a second, then the rest is dropped; a stderr that is gone
 * drops it at once. Logging must never take the server down.
 */
function writeFully(fd: number, buf: Buffer): void {
  let off = 0;
  for (let waits = 0; off < buf.length && waits < 1000; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return;
      Atomics.wait(pause, 0, 0, 1);
      waits++;
    }
  }
}

/**
 * Lines gathered and written together once the current turn of the event
 * loop is over: a write(2) per request's line cost more than the line.
 * Order is kept; what is pending is written at exit, and at once when it
 * grows past 64 KiB.
 */
export class LineSink {
  readonly #fd: number;
  #pending: string[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(fd: number) {
    this.#fd = fd;
    process.once("exit", () => this.flush());
  }

  write(line: string): void {
    this.#pending.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= 65536) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("");
    this.#pending = [];
    this.#bytes = 0;
    writeFully(this.#fd, Buffer.from(text));
  }
}

/** One readable line per entry, on a file descriptor. */
export class TextLogger implements Logger {
  readonly #sink: LineSink;
  readonly #rank: number;
  readonly #bindings: LogFields;
  readonly #hasBindings: boolean;

  constructor(level: LogLevel, sink: LineSink, bindings: LogFields = {}) {
    this.#sink = sink;
    this.#hasBindings = Object.keys(bindings).length > 0;
    this.#rank = LOG_LEVELS.indexOf(level);
    this.#bindings = bindings;
  }

  #write(level: LogLevel, fields: LogFields, msg: string): void {
    if (LOG_LEVELS.indexOf(level) > this.#rank) return;
    const all = this.#hasBindings ? { ...this.#bindings, ...fields } : fields;
    const json = JSON.stringify(all);
    const rest = json === "{}" ? "" : ` ${json}`;
    const line = `[${localTime(new Date())}] ${level.toUpperCase()}: ${msg}${rest}\n`;
    this.#sink.write(line);
  }

  error(fields: LogFields, msg: string): void {
    this.#write("error", fields, msg);
  }
  warn(fields: LogFields, msg: string): void {
    this.#write("warn", fields, msg);
  }
  info(fields: LogFields, msg: string): void {
    this.#write("info", fields, msg);
  }
  debug(fields: LogFields, msg: string): void {
    this.#write("debug", fields, msg);
  }
  child(bindings: LogFields): Logger {
    const level = LOG_LEVELS[this.#rank] as LogLevel;
    return new TextLogger(level, this.#sink, { ...this.#bindings, ...bindings });
  }
}

/** A logger writing to stderr in `format` at `level`. */
export function stderrLogger(level: LogLevel, format: LogFormat): Logger {
  const sink = new LineSink(2);
  if (format === "text") return new TextLogger(level, sink);
  return pino(
    {
      level,
      // Who is logging is the process's business, not each line's.
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    sink,
  );
}

/** The logger the flags ask for. */
export function loggerFromFlags(o: LoggingFlags): Logger {
  const { level, format } = loggingChoice(o);
  return stderrLogger(level, format);
}
