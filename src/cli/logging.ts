/**
 * The logger the long-running commands write to stderr with: pino, as JSON
 * lines for a log collector (`--log-format json`) or as one readable line
 * each (`text`, the default), at `--log-level` (default info; `--debug`
 * is debug). Layers see only util's Logger interface.
 */
import { pino } from "pino";
import pretty from "pino-pretty";
import type { Logger, LogLevel } from "../util/index.js";
import { type LogFormat, type LoggingFlags, loggingChoice } from "./logging-options.js";

/**
 * A logger writing to stderr (file descriptor 2), synchronously, so that a
 * line is out before whatever follows it (an exit, a crash) and lines of
 * different sources keep their order.
 */
export function stderrLogger(level: LogLevel, format: LogFormat): Logger {
  const options = {
    level,
    // Who is logging is the process's business, not each line's.
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === "json") return pino(options, pino.destination({ dest: 2, sync: true }));
  return pino(
    options,
    pretty({
      destination: 2,
      sync: true,
      colorize: false,
      singleLine: true,
      translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l",
    }),
  );
}

/** The logger the flags ask for. */
export function loggerFromFlags(o: LoggingFlags): Logger {
  const { level, format } = loggingChoice(o);
  return stderrLogger(level, format);
}
