import { AnnexgateError } from "../errors.js";

/** Where a sim line that failed to parse came from, when it came from a file. */
export interface SimParseErrorData {
  /** 1-based line of the sim file, or null for a command given as words. */
  readonly line: number | null;
}

/**
 * A sim command git-annex would refuse to parse. The message is git-annex
 * 10.20250416's own, word for word (a front-end prints it after
 * "git-annex: " or "annexgate: " as git-annex does); the line number is
 * data, since git-annex does not print one.
 */
export class SimParseError extends AnnexgateError {
  declare readonly data: SimParseErrorData & Record<string, unknown>;

  constructor(message: string, line: number | null = null) {
    super("AG_SIM_PARSE", message, { line });
  }

  /** The same error, told which line of a file it came from. */
  atLine(line: number): SimParseError {
    return new SimParseError(this.message, line);
  }
}

/**
 * A sim command git-annex would refuse to run (its `giveup` text is the
 * message, so a front-end can print it as stock does).
 */
export class SimError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("AG_SIM", message, data);
  }
}
