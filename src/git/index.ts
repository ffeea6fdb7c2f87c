/**
 * @module git — a small wrapper over git plumbing: one `Git` per
 * repository (config, refs, blobs, trees, commits) and a long-lived
 * `CatFileBatch` reader. Imports nothing of annexgate but errors.
 */
export { CatFileBatch } from "./cat-file.js";
export type {
  CommitFilesOptions,
  CommitFilesResult,
  FileChange,
  Ident,
} from "./commit-files.js";
export { CommitWriter } from "./commit-writer.js";
export { GitConfigValues } from "./config-values.js";
export { GitError, type GitErrorData } from "./errors.js";
export {
  type CommitOptions,
  Git,
  type RunOptions,
  type TreeChange,
  type TreeDiff,
  type TreeEntry,
} from "./git.js";
export { RefUpdates } from "./ref-updates.js";
export type { RefEntry } from "./refs.js";
export { TreeReader } from "./tree-reader.js";
