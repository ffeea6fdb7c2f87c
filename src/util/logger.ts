/**
 * The one logging interface every layer writes to: levelled, structured
 * (fields, then a message), and narrowed with `child` to a part of the
 * program (a repository, a node). It is the shape of pino's logger, which
 * the CLI plugs in; layers never import pino themselves, and a test or a
 * library caller that wants no output leaves the logger out.
 *
 * Fields are facts (`{ repo, uuid, key, err }`), the message a short
 * sentence without them, so a JSON line can be searched by field and a
 * text line still reads as English.
 */
export type LogFields = Record<string, unknown>;

export type LogLevel = "error" | "warn" | "info" | "debug";

/** Levels, most severe first; a logger at one level writes it and those before it. */
export const LOG_LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];

export interface Logger {
  /** Something failed that an operator must see (a request could not be served). */
  error(fields: LogFields, msg: string): void;
  /** Something went wrong and was worked around (a node failed, a lock not confirmed). */
  warn(fields: LogFields, msg: string): void;
  /** What the service did: one line per request, per configuration reload. */
  info(fields: LogFields, msg: string): void;
  /** The detail of an operation (each node call). */
  debug(fields: LogFields, msg: string): void;
  /** A logger whose every line also carries `bindings`. */
  child(bindings: LogFields): Logger;
}

/** Writes nothing: the default wherever a logger is optional. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child: () => silentLogger,
};

/** A one-line description of an error for a log field: its kind and message, never a stack. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
}

/** One line a logger was given, as a RecordingLogger keeps it. */
export interface LogEntry {
  readonly level: LogLevel;
  readonly fields: LogFields;
  readonly msg: string;
}

/**
 * Keeps every line it is given (bindings of its children merged in), for
 * tests and for a caller that shows them its own way.
 */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[];
  readonly #bindings: LogFields;

  constructor(entries: LogEntry[] = [], bindings: LogFields = {}) {
    this.entries = entries;
    this.#bindings = bindings;
  }

  #add(level: LogLevel, fields: LogFields, msg: string): void {
    this.entries.push({ level, fields: { ...this.#bindings, ...fields }, msg });
  }

  error(fields: LogFields, msg: string): void {
    this.#add("error", fields, msg);
  }
  warn(fields: LogFields, msg: string): void {
    this.#add("warn", fields, msg);
  }
  info(fields: LogFields, msg: string): void {
    this.#add("info", fields, msg);
  }
  debug(fields: LogFields, msg: string): void {
    this.#add("debug", fields, msg);
  }
  child(bindings: LogFields): Logger {
    return new RecordingLogger(this.entries, { ...this.#bindings, ...bindings });
  }

  /** The messages, in order, with their fields as JSON after them. */
  lines(): string[] {
    return this.entries.map((e) => `${e.level} ${e.msg} ${JSON.stringify(e.fields)}`);
  }
}
