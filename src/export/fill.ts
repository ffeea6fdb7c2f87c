/**
 * Sending the files of the new tree the remote lacks (Command/Export.hs
 * `fillExport`, `startExport`, `performExport`). annexgate keeps no
 * export database, so each file is looked for on the remote first (a
 * stat, or a HEAD). A missing annexed file is, in git-annex's order: its
 * annexobjects copy renamed into place when the location log has it
 * there; the gateway's own copy; a copy the remote holds (a file sent
 * meanwhile, or the annexobjects copy), checked against its key. A file
 * stored in git is sent from its blob. A sent annexed key is logged as
 * present in the remote.
 */
import { Readable } from "node:stream";
import { locationsOf, setLocation } from "../branch/index.js";
import { type Key, parseKey } from "../keys/index.js";
import { annexObjectLocation } from "../peers/index.js";
import { forEachBounded } from "../util/index.js";
import { type ExportRun, failureText, storeFile } from "./export-run.js";
import type { ExportFile } from "./filter.js";
import { isGitShaKey } from "./tree-files.js";

/** Keys sent at once (files of one key go one after another). */
const FILL_JOBS = 4;

export interface FillResult {
  /** Every file of the tree is on the remote now. */
  readonly allFilled: boolean;
  /** Key to a path of the remote that holds it. */
  readonly placed: ReadonlyMap<string, string>;
}

export async function fillExport(
  run: ExportRun,
  files: readonly ExportFile[],
): Promise<FillResult> {
  const groups = new Map<string, ExportFile[]>();
  for (const f of files) groups.set(f.key, [...(groups.get(f.key) ?? []), f]);
  const placed = new Map<string, string>();
  let allFilled = true;
  const results = await forEachBounded([...groups.values()], FILL_JOBS, async (group) => {
    for (const f of group) {
      if (!(await fillFile(run, f, placed))) allFilled = false;
    }
  });
  if (results.some((r) => r instanceof Error)) allFilled = false;
  return { allFilled, placed };
}

/** Whether the file is on the remote once done. */
async function fillFile(
  run: ExportRun,
  f: ExportFile,
  placed: Map<string, string>,
): Promise<boolean> {
  const what = `export ${run.remote.name} ${f.path}`;
  try {
    if (await run.files.has(f.path)) {
      placed.set(f.key, f.path);
      return true;
    }
    if (!(await send(run, f, placed))) {
      run.report(`${what} failed (not available)`);
      return false;
    }
  } catch (e) {
    run.report(`${what} failed: ${failureText(e)}`);
    return false;
  }
  placed.set(f.key, f.path);
  if (!isGitShaKey(f.key)) await setLocation(run.branch, parseKey(f.key), run.remote.uuid, true);
  run.report(`${what} ok`);
  return true;
}

async function send(run: ExportRun, f: ExportFile, placed: Map<string, string>): Promise<boolean> {
  if (isGitShaKey(f.key)) {
    const blob = await run.git.run(["cat-file", "blob", f.sha]);
    await storeFile(run.files, f.path, Readable.from([blob]), { size: blob.length });
    return true;
  }
  const key = parseKey(f.key);
  if (await renameAnnexObject(run, key, f.path)) return true;
  const local = await run.objects.read(key, 0);
  if (local !== null) {
    await storeFile(run.files, f.path, local.stream, { size: local.size, key: f.key });
    return true;
  }
  for (const from of [placed.get(f.key), annexObjectLocation(key)]) {
    if (from === undefined) continue;
    const copy = await run.files.read(from, 0);
    if (copy === null) continue;
    await storeFile(run.files, f.path, copy.data, { size: copy.length, key: f.key });
    return true;
  }
  return false;
}

/** Command/Export.hs `tryrenameannexobject`: only when the location log has the key in the remote. */
async function renameAnnexObject(run: ExportRun, key: Key, path: string): Promise<boolean> {
  if (!(await locationsOf(run.branch, key)).includes(run.remote.uuid)) return false;
  try {
    await run.files.rename(annexObjectLocation(key), path);
    return true;
  } catch {
    return false; // not there after all: sent another way
  }
}
