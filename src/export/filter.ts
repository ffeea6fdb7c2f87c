/**
 * The tree an export sends (Command/Export.hs `filterExport`): every
 * file of the tree, annexed or stored in git, but no submodule and no
 * symlink that is not an annex link (a remote cannot hold either), and
 * no path annexgate will not address on a remote (see
 * `isSafeExportPath`), and, when the remote has preferred content, no
 * annexed file it does not want (matched by its path in the exported
 * tree and its key; files stored in git are always sent, as git-annex
 * sends them). When something is left out, the export is of a new tree
 * without it, as git-annex's.
 */
import type { Git } from "../git/index.js";
import { isSafeExportPath } from "../peers/index.js";
import type { ExportWanted } from "./export-run.js";
import { type BlobKeys, isGitShaKey, lsTreeRecursive } from "./tree-files.js";

const SYMLINK = "120000";

/** One file of an exported tree. */
export interface ExportFile {
  readonly path: string;
  readonly sha: string;
  /** Blob size (for a file stored in git, its content's). */
  readonly size: number | null;
  /** The serialized export key. */
  readonly key: string;
}

/** The filtered tree, and its files. */
export interface FilteredTree {
  readonly tree: string;
  readonly files: readonly ExportFile[];
}

export async function filterExport(
  git: Git,
  keys: BlobKeys,
  tree: string,
  wants?: ExportWanted,
): Promise<FilteredTree> {
  const entries = await lsTreeRecursive(git, tree);
  const blobs = entries.filter((e) => e.type === "blob");
  const keyOf = await keysOfBlobs(keys, blobs);
  const files: ExportFile[] = [];
  const dropped: string[] = [];
  for (const e of entries) {
    const key = e.type === "blob" ? keyOf.get(e.sha) : undefined;
    let keep =
      key !== undefined && isSafeExportPath(e.path) && !(e.mode === SYMLINK && isGitShaKey(key));
    if (keep && wants !== undefined && key !== undefined && !isGitShaKey(key)) {
      keep = await wants(e.path, key);
    }
    if (keep && key !== undefined) files.push({ path: e.path, sha: e.sha, size: e.size, key });
    else dropped.push(e.path);
  }
  if (dropped.length === 0) return { tree, files };
  const filtered = await git.editTree(
    tree,
    dropped.map((path) => ({ path, sha: null })),
  );
  return { tree: filtered, files };
}

async function keysOfBlobs(
  keys: BlobKeys,
  blobs: readonly { sha: string }[],
): Promise<Map<string, string>> {
  return keys.keysOf(blobs.map((b) => b.sha));
}
