import { AnnexgateError } from "../errors.js";

/**
 * An export to a remote could not be made or finished (AG_EXPORT): the
 * pushed tree is missing, the remote cannot be opened for exporting,
 * another export holds it too long. Its message names the remote, never a
 * path of this machine: a post-receive hook's output reaches the pusher.
 */
export class ExportError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_EXPORT", message, data, cause);
  }
}
