import { AnnexgateError } from "../errors.js";

/**
 * Something about the git-annex branch or its journal went wrong.
 * Codes: AG_BRANCH_PATH (not a usable branch file path), AG_BRANCH_CONTENT
 * (content that is not newline-terminated lines), AG_BRANCH_CONFLICT (the
 * branch kept moving under a commit), AG_BRANCH_CLOSED, AG_BRANCH_INIT.
 */
export class BranchError extends AnnexgateError {}
