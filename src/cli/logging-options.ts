/**
 * The logging flags of the serving command (p2phttp), and what they choose, in
 * a module of their own: `annexgate --help` reads them without loading
 * the logger.
 */
import { LOG_LEVELS, type LogLevel } from "../util/index.js";
import type { OptionTable } from "./options.js";
import { UsageError } from "./usage.js";

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The logging flags, shared by every command that serves. */
export const LOGGING_OPTIONS = {
  "log-level": {
    type: "string",
    value: "LEVEL",
    help: `what to log: ${LOG_LEVELS.join(", ")} (default info: one line per request, reloads and problems)`,
  },
  "log-format": {
    type: "string",
    value: "FORMAT",
    help: "text (one readable line each, the default) or json (one JSON object a line)",
  },
  debug: { type: "boolean", help: "the same as --log-level debug" },
} as const satisfies OptionTable;

export interface LoggingFlags {
  readonly "log-level"?: string | undefined;
  readonly "log-format"?: string | undefined;
  readonly debug?: boolean | undefined;
}

/** The level and format the flags ask for; a usage error for anything else. */
export function loggingChoice(o: LoggingFlags): { level: LogLevel; format: LogFormat } {
  const level = o["log-level"] ?? (o.debug ? "debug" : "info");
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
  }
  const format = o["log-format"] ?? "text";
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(", ")}`);
  }
  return { level: level as LogLevel, format: format as LogFormat };
}
