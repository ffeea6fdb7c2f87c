import { AnnexgateError } from "../errors.js";

/** A refusal or failure printed as git-annex-shell prints it, exit status 1. */
export class ShellError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_SHELL", message, data, cause);
  }
}
