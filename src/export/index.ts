/**
 * @module export — exporting a pushed tree to the export remotes the
 * gateway proxies for (git-annex's post-receive hook): what a push asks
 * to export, and doing it as `git annex export` does, so stock git-annex
 * reads the remote, export.log and the location log as its own.
 */
export { ExportError } from "./errors.js";
export { exportPushedTrees, type PostReceiveOptions } from "./post-receive.js";
export {
  type PushedExport,
  type PushedRef,
  parseHookInput,
  parseTrackingBranch,
  pushedExport,
} from "./pushed.js";
export { BlobKeys, isGitShaKey, lsTreeRecursive } from "./tree-files.js";
