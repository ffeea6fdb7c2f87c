import { AnnexgateError } from "../errors.js";

/**
 * A git command failed, or a git child process misbehaved. `data.args` is
 * the command line (without "git"), `data.exitCode` the exit status when
 * there was one, and `data.stderr` what git said about it.
 */
export class GitError extends AnnexgateError {
  constructor(message: string, data: GitErrorData, cause?: unknown) {
    super("AG_GIT", message, { ...data }, cause);
  }

  /** What git wrote to stderr, or "" when it was not a git failure. */
  get stderr(): string {
    const s = this.data.stderr;
    return typeof s === "string" ? s : "";
  }

  /** The exit status of the git command, or null. */
  get exitCode(): number | null {
    const c = this.data.exitCode;
    return typeof c === "number" ? c : null;
  }
}

export interface GitErrorData {
  readonly args: readonly string[];
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly stderr?: string;
}
