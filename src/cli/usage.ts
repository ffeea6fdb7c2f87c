import { AnnexgateError } from "../errors.js";

/** A command line that cannot be run as given; printed without a stack. */
export class UsageError extends AnnexgateError {
  constructor(message: string) {
    super("AG_USAGE", message);
  }
}
