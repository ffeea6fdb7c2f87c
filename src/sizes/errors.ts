import { AnnexgateError } from "../errors.js";

/** Text that is not a size git-annex would accept; `data.input` is the text. */
export class BadSizeError extends AnnexgateError {
  constructor(input: string) {
    super("AG_BAD_SIZE", `Unable to parse size: ${JSON.stringify(input.slice(0, 120))}`, {
      input,
    });
  }
}
