import { AnnexgateError } from "../../errors.js";

/**
 * The connection cannot go on and the server stops with this message (git-annex
 * gives up the same way: the message goes to stderr, the exit status is 1).
 */
export class LineServerError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_LINE_SERVER", message, data, cause);
  }
}
