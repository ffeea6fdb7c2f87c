/**
 * The loggers the long-running commands write to stderr with, at
 * `--log-level` (default info; `--debug` is debug):
 *
 * - `--log-format json`: pino, one JSON object a line, for a log collector;
 * - `text` (the default): one readable line each, "time LEVEL: message
 *   {fields}", written here directly. pino's own pretty-printer parses
 *   each JSON line back, which costs five times a request's line.
 *
 * Both write synchronously, so a line is out before whatever follows it
 * (an exit, a crash) and lines keep their order. Layers see only util's
 * Logger interface.
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

/** One readable line per entry, on a file descriptor. */
export class TextLogger implements Logger {
  readonly #fd: number;
  readonly #rank: number;
  readonly #bindings: LogFields;

  constructor(level: LogLevel, fd = 2, bindings: LogFields = {}) {
    this.#fd = fd;
    this.#rank = LOG_LEVELS.indexOf(level);
    this.#bindings = bindings;
  }

  #write(level: LogLevel, fields: LogFields, msg: string): void {
    if (LOG_LEVELS.indexOf(level) > this.#rank) return;
    const all = { ...this.#bindings, ...fields };
    const rest = Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : "";
    const line = `[${localTime(new Date())}] ${level.toUpperCase()}: ${msg}${rest}\n`;
    writeFully(this.#fd, Buffer.from(line));
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
    return new TextLogger(level, this.#fd, { ...this.#bindings, ...bindings });
  }
}

/** A logger writing to stderr in `format` at `level`. */
export function stderrLogger(level: LogLevel, format: LogFormat): Logger {
  if (format === "text") return new TextLogger(level);
  return pino(
    {
      level,
      // Who is logging is the process's business, not each line's.
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 2, sync: true }),
  );
}

/** The logger the flags ask for. */
export function loggerFromFlags(o: LoggingFlags): Logger {
  const { level, format } = loggingChoice(o);
  return stderrLogger(level, format);
}
