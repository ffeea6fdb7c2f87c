/**
 * Changing what a remote holds from the exported tree to a new one,
 * before any new file is sent (Command/Export.hs `changeExport`):
 * - the export's beginning is logged first, so an interrupted export is
 *   cleaned up by the next (temp files of incomplete trees are removed);
 * - from the one tree exported before, each file whose key stays in the
 *   new tree is renamed, through a temp name so swaps work; a file whose
 *   key leaves goes to the key's annexobjects location (or, stored in
 *   git, is deleted);
 * - from several trees (an export conflict), every file that differs from
 *   the new tree is deleted, its content being unknown;
 * - then, without failures, the new tree is logged as exported.
 * A rename that fails deletes its source instead, as git-annex's does.
 */
import {
  parseExportLog,
  readExportLog,
  recordExportBeginning,
  recordExportUnderway,
} from "../branch/index.js";
import { parseKey } from "../keys/index.js";
import { annexObjectLocation } from "../peers/index.js";
import { type ExportRun, exportTempName, failureText } from "./export-run.js";
import { isGitShaKey } from "./tree-files.js";

/** What the remote held before: the trees exported to it, and trees left incomplete. */
export interface PreviousExport {
  readonly trees: readonly string[];
  readonly incomplete: readonly string[];
}

export async function previousExport(run: ExportRun): Promise<PreviousExport> {
  const entries = parseExportLog(await readExportLog(run.branch)).filter(
    (e) => e.participants.to === run.remote.uuid,
  );
  return {
    trees: [...new Set(entries.map((e) => e.exported.tree))],
    incomplete: [...new Set(entries.flatMap((e) => e.exported.incomplete))],
  };
}

/** Returns whether every change was made (the new tree is then logged as exported). */
export async function changeExport(
  run: ExportRun,
  before: PreviousExport,
  newTree: string,
): Promise<boolean> {
  const emptyTree = await run.git.mktree([]);
  await recordExportBeginning(run.branch, {
    here: run.here,
    remote: run.remote.uuid,
    tree: newTree,
    emptyTree,
  });
  let ok = true;
  for (const incomplete of before.incomplete) {
    ok = (await removeTempFiles(run, incomplete, newTree)) && ok;
  }
  const [only, ...more] = before.trees;
  if (only !== undefined && more.length === 0) {
    if (only !== newTree) ok = (await moveChanged(run, only, newTree)) && ok;
  } else if (only !== undefined) {
    run.report("Resolving export conflict..");
    for (const old of before.trees) ok = (await unexportChanged(run, old, newTree)) && ok;
  }
  if (ok) {
    await recordExportUnderway(run.branch, {
      here: run.here,
      remote: run.remote.uuid,
      oldTrees: before.trees,
      tree: newTree,
    });
  }
  return ok;
}

/** Removes the temp files an interrupted export of `incomplete` may have left. */
async function removeTempFiles(
  run: ExportRun,
  incomplete: string,
  newTree: string,
): Promise<boolean> {
  const diffs = await run.git.diffTrees(incomplete, newTree);
  const shas = diffs.flatMap((d) => (d.oldSha === null ? [] : [d.oldSha]));
  let ok = true;
  for (const key of new Set((await run.keys.keysOf(shas)).values())) {
    ok = (await unexport(run, [key], exportTempName(key))) && ok;
  }
  return ok;
}

/** Deletes the file at `path`, whose content is one of `keys`. */
async function unexport(run: ExportRun, keys: readonly string[], path: string): Promise<boolean> {
  try {
    await run.files.remove(path);
  } catch (e) {
    run.report(`unexport ${run.remote.name} ${path} failed: ${failureText(e)}`);
    return false;
  }
  for (const k of keys) if (!isGitShaKey(k)) run.unexported.add(k);
  return true;
}

/**
 * Renames a file on the remote; when that fails, deletes the source
 * (Command/Export.hs `performRename`). "failed" when neither was done.
 */
async function renameOrDelete(
  run: ExportRun,
  key: string,
  from: string,
  to: string,
): Promise<"renamed" | "deleted" | "failed"> {
  try {
    await run.files.rename(from, to);
    return "renamed";
  } catch (e) {
    run.report(`rename ${run.remote.name} ${from} failed (${failureText(e)}); deleting instead`);
    return (await unexport(run, [key], from)) ? "deleted" : "failed";
  }
}

/** A file that leaves the tree: its key to annexobjects, or, stored in git, deleted. */
async function dispose(run: ExportRun, key: string, path: string): Promise<boolean> {
  if (isGitShaKey(key)) return unexport(run, [key], path);
  const to = annexObjectLocation(parseKey(key));
  return (await renameOrDelete(run, key, path, to)) !== "failed";
}

/** Old and new paths of each key that the diff of two trees touches (Command/Export.hs `mkDiffMap`). */
async function diffMap(
  run: ExportRun,
  oldTree: string,
  newTree: string,
): Promise<Map<string, { olds: string[]; news: string[] }>> {
  const diffs = await run.git.diffTrees(oldTree, newTree);
  const shas = diffs.flatMap((d) => [d.oldSha, d.newSha].filter((s): s is string => s !== null));
  const keys = await run.keys.keysOf(shas);
  const map = new Map<string, { olds: string[]; news: string[] }>();
  const entry = (k: string) => {
    const found = map.get(k);
    if (found !== undefined) return found;
    const made = { olds: [] as string[], news: [] as string[] };
    map.set(k, made);
    return made;
  };
  for (const d of diffs) {
    if (d.oldSha !== null) entry(keys.get(d.oldSha) as string).olds.push(d.path);
    if (d.newSha !== null) entry(keys.get(d.newSha) as string).news.push(d.path);
  }
  return map;
}

async function moveChanged(run: ExportRun, oldTree: string, newTree: string): Promise<boolean> {
  const map = await diffMap(run, oldTree, newTree);
  const waiting: [string, string][] = [];
  let ok = true;
  for (const [key, { olds, news }] of map) {
    const [first, ...rest] = olds;
    if (first === undefined) continue; // only new files: sent when the export is filled
    if (news[0] !== undefined) {
      const moved = await renameOrDelete(run, key, first, exportTempName(key));
      if (moved === "renamed") waiting.push([key, news[0]]);
      ok = moved !== "failed" && ok;
    } else {
      ok = (await dispose(run, key, first)) && ok;
    }
    for (const path of rest) ok = (await dispose(run, key, path)) && ok;
  }
  for (const [key, to] of waiting) {
    ok = (await renameOrDelete(run, key, exportTempName(key), to)) !== "failed" && ok;
  }
  return ok;
}

/** In a conflict: deletes every file of `oldTree` that differs from the new tree. */
async function unexportChanged(run: ExportRun, oldTree: string, newTree: string): Promise<boolean> {
  const diffs = await run.git.diffTrees(oldTree, newTree);
  const shas = diffs.flatMap((d) => [d.oldSha, d.newSha].filter((s): s is string => s !== null));
  const keys = await run.keys.keysOf(shas);
  let ok = true;
  for (const d of diffs) {
    const both = [d.oldSha, d.newSha].flatMap((s) => (s === null ? [] : [keys.get(s) as string]));
    ok = (await unexport(run, both, d.path)) && ok;
  }
  return ok;
}
