/**
 * One export of a pushed tree to one remote (Command/Export.hs
 * `seekExport`): under git-annex's own export lock for the remote
 * (`annex/export/<uuid>/lock`, so stock `git annex export` in the gateway
 * and a second push wait for this one), the tree is filtered, the remote
 * changed, the missing files sent, the location of keys deleted from it
 * settled, and, when every file is there, the remote tracking branch
 * `refs/remotes/<remote>/<branch>` set (Annex/RemoteTrackingBranch.hs).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setLocation } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { parseKey } from "../keys/index.js";
import { type FcntlLock, processFcntlLocks } from "../locks/index.js";
import { annexObjectLocation } from "../peers/index.js";
import { changeExport, previousExport } from "./change.js";
import { ExportError } from "./errors.js";
import type { ExportRun } from "./export-run.js";
import { fillExport } from "./fill.js";
import { filterExport } from "./filter.js";
import { exportCommitRefs, type PushedExport } from "./pushed.js";

/** How long a push waits for another export to the same remote. */
const LOCK_WAIT_MS = 10 * 60 * 1000;

async function exportLock(git: Git, uuid: string, remote: string): Promise<FcntlLock> {
  const dir = join(git.gitDir, "annex", "export", uuid);
  await mkdir(dir, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
    const lock = await processFcntlLocks().tryLock(join(dir, "lock"), "exclusive");
    if (lock !== null) return lock;
    if (Date.now() > deadline) {
      throw new ExportError(`another export to ${remote} is still running`, { remote });
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** The tree a tree-ish names (`branch`, or `branch:subdir`), or null. */
async function treeOf(git: Git, treeish: string): Promise<string | null> {
  const tree = await git.revParse(treeish.includes(":") ? treeish : `${treeish}^{tree}`);
  if (tree === null) return null;
  const type = (await git.run(["cat-file", "-t", tree])).toString("utf8").trim();
  return type === "tree" ? tree : null;
}

/** Exports what `pushed` names; whether every step succeeded. */
export async function exportToRemote(
  run: Omit<ExportRun, "unexported">,
  pushed: PushedExport,
): Promise<boolean> {
  const tree = await treeOf(run.git, pushed.treeish);
  // A deleted branch, or a subdirectory it lacks: nothing to export, as with git-annex.
  if (tree === null) return true;
  const lock = await exportLock(run.git, run.remote.uuid, run.remote.name);
  try {
    const full: ExportRun = { ...run, unexported: new Set() };
    const filtered = await filterExport(run.git, run.keys, tree, run.wants);
    const changed = await changeExport(full, await previousExport(full), filtered.tree);
    const fill = await fillExport(full, filtered.files);
    await settleUnexported(full, fill.placed);
    if (fill.allFilled) await setTrackingBranch(run.git, run.remote.name, pushed.branch);
    return changed && fill.allFilled;
  } finally {
    await lock.release();
  }
}

/**
 * Keys whose file was deleted from the remote and that it holds nowhere
 * else (no file of the tree, no annexobjects copy) are logged as missing
 * there (Command/Export.hs `cleanupUnexport`).
 */
async function settleUnexported(
  run: ExportRun,
  placed: ReadonlyMap<string, string>,
): Promise<void> {
  for (const k of run.unexported) {
    if (placed.has(k)) continue;
    const key = parseKey(k);
    const kept = await run.files.has(annexObjectLocation(key)).catch(() => true);
    if (!kept) await setLocation(run.branch, key, run.remote.uuid, false);
  }
}

/**
 * Points `refs/remotes/<remote>/<branch>` at the exported commit; when
 * it was a merge keeping an import history, a new such merge
 * (makeRemoteTrackingBranchMergeCommit). Nothing for a branch named
 * like a remote's (`origin/master`), as git-annex.
 */
async function setTrackingBranch(git: Git, remote: string, branch: string): Promise<void> {
  const { trackingRef, localRef, base } = exportCommitRefs(remote, branch);
  if (base.includes("/") && (await git.revParse(`refs/remotes/${base}`)) !== null) return;
  const commit = await git.revParse(`${localRef}^{commit}`);
  if (commit === null) return;
  let target = commit;
  const current = await git.revParse(trackingRef);
  if (current !== null) {
    const parents = (await git.run(["rev-list", "--parents", "-n", "1", current]))
      .toString("utf8")
      .trim()
      .split(" ")
      .slice(1);
    const history = parents[1];
    if (parents.length === 2 && history !== undefined) {
      const tree = (await git.revParse(`${commit}^{tree}`)) as string;
      target = await git.commitTree({
        tree,
        parents: [commit, history],
        message: "remote tracking branch",
      });
    }
  }
  await git.run(["update-ref", trackingRef, target]);
}
