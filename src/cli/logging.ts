/**
 * The loggers the long-running commands write to stderr with, at
 * `--log-level` (default info; `--debug` is debug):
 *
 * - `--log-format json`: pino, one JSON object a line, for a log collector;
 * - `text` (the default): one readable line each, "time LEVEL: message
 *   {fields}", written here directly. pino's own pretty-printer parses
 *   each JSON line back, which costs five times a request's line.
 *
 * Both write through a LineSink (line-sink.ts), which never stops the
 * server for a slow stderr. Layers see only util's Logger interface.
 */
import { pino } from "pino";
import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../util/index.js";
import { LineSink } from "./line-sink.js";
import { type LogFormat, type LoggingFlags, loggingChoice } from "./logging-options.js";

/** "2026-12-07 07:01:14.330", in local time. */
function localTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`
  );
}

/*
 * The time of the last line, kept: a busy server writes many lines in the
 * same millisecond, and formatting a date costs about as much as the rest
 * of a request's line.
 */
let lastMs = -1;
let lastTime = "";
function now(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = localTime(new Date(ms));
  }
  return lastTime;
}

const LEVEL_TEXT: Record<LogLevel, string> = {
  error: "ERROR",
  warn: "WARN",
  info: "INFO",
  debug: "DEBUG",
};

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
    const line = `[${now()}] ${LEVEL_TEXT[level]}: ${msg}${rest}\n`;
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
  const note = `log lines dropped: stderr was not read`;
  if (format === "text") {
    const sink = new LineSink(2, (n) => `[${localTime(new Date())}] WARN: ${n} ${note}\n`);
    return new TextLogger(level, sink);
  }
  const sink = new LineSink(
    2,
    (n) =>
      `${JSON.stringify({ level: 40, time: new Date().toISOString(), dropped: n, msg: note })}\n`,
  );
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
