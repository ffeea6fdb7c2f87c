/**
 * What a push to the gateway exports (Command/PostReceive.hs
 * `proxyExportTree`): among the remotes the gateway proxies for, each
 * export remote with `annex-tracking-branch` whose branch (or synced
 * branch) was pushed gets that branch's tree, or its subdirectory's.
 * git-annex exports to the first such remote only, by cost; annexgate to
 * each of them, one after another.
 *
 * When something is to be exported, the git-annex branches pushed with
 * it are merged first, so the location log knows what the pusher copied
 * to the remote (and the export log what others exported).
 */
import { join } from "node:path";
import {
  type AnnexBranch,
  PREFERRED_CONTENT_LOG,
  readContentExpressions,
} from "../branch/index.js";
import type { Git } from "../git/index.js";
import { ObjectStore, repositoryLayout } from "../objects/index.js";
import { isExportRemote, type PeerKinds } from "../peers/index.js";
import { loadGatewayConfig, proxiedRemoteFor, type Remote } from "../remotes/index.js";
import { exportToRemote } from "./export-remote.js";
import { failureText } from "./export-run.js";
import { type PushedExport, type PushedRef, parseTrackingBranch, pushedExport } from "./pushed.js";
import { BlobKeys } from "./tree-files.js";

export interface PostReceiveOptions {
  readonly git: Git;
  readonly branch: AnnexBranch;
  /** The gateway's UUID. */
  readonly uuid: string;
  /** The refs the push updated. */
  readonly pushed: readonly PushedRef[];
  readonly kinds: PeerKinds;
  /** A line for the pusher. */
  readonly report: (line: string) => void;
  /** An unexpected failure, kept whole for the gateway's operator. */
  readonly logError: (e: unknown) => void;
}

/** The export remotes a push updates, with what it exports to each. */
async function pushedExports(
  opts: PostReceiveOptions,
): Promise<{ remote: Remote; pushed: PushedExport }[]> {
  const cfg = await loadGatewayConfig(opts.git, opts.branch);
  const out: { remote: Remote; pushed: PushedExport }[] = [];
  const seen = new Set<string>();
  for (const r of cfg.remotes) {
    if (seen.has(r.uuid) || proxiedRemoteFor(cfg, r.uuid) !== r) continue;
    seen.add(r.uuid);
    const special = r.special;
    if (special === undefined || !isExportRemote(special)) continue;
    const tb = parseTrackingBranch(
      special.gitConfig["tracking-branch"] ?? special.gitConfig["export-tracking"],
    );
    const pushed = tb === null ? null : pushedExport(tb, opts.pushed);
    if (pushed !== null) out.push({ remote: r, pushed });
  }
  return out;
}

/** Exports what the push asks; whether every export was made whole. */
export async function exportPushedTrees(opts: PostReceiveOptions): Promise<boolean> {
  if (opts.pushed.length === 0) return true;
  const targets = await pushedExports(opts);
  if (targets.length === 0) return true;
  await opts.branch.mergeRemoteBranches();
  const wanted = await readContentExpressions(opts.branch, PREFERRED_CONTENT_LOG);
  const keys = new BlobKeys(opts.git);
  const objects = new ObjectStore(
    repositoryLayout(join(opts.git.gitDir, "annex"), opts.git.bare ? "lower" : "mixed"),
  );
  let ok = true;
  for (const { remote, pushed } of targets) {
    if ((wanted.get(remote.uuid) ?? "").trim() !== "") {
      // git-annex leaves out what the remote does not want; exporting all would not be the same.
      opts.report(
        `export ${remote.name}: not exported: annexgate does not filter an export by preferred content yet`,
      );
      ok = false;
      continue;
    }
    ok = (await exportOne(opts, remote, pushed, { keys, objects })) && ok;
  }
  return ok;
}

async function exportOne(
  opts: PostReceiveOptions,
  remote: Remote,
  pushed: PushedExport,
  shared: { keys: BlobKeys; objects: ObjectStore },
): Promise<boolean> {
  let connection: Awaited<ReturnType<PeerKinds["open"]>>;
  try {
    connection = await opts.kinds.open(remote, {
      gatewayUuid: opts.uuid,
      git: opts.git,
      branch: opts.branch,
    });
  } catch (e) {
    opts.logError(e);
    opts.report(`export ${remote.name} failed: cannot open the remote`);
    return false;
  }
  try {
    const files = connection.exportFiles;
    if (files === undefined) {
      opts.report(`export ${remote.name} failed: not an export remote annexgate can write`);
      return false;
    }
    return await exportToRemote(
      {
        git: opts.git,
        branch: opts.branch,
        here: opts.uuid,
        remote: { name: remote.name, uuid: remote.uuid },
        files,
        keys: shared.keys,
        objects: shared.objects,
        report: opts.report,
      },
      pushed,
    );
  } catch (e) {
    opts.logError(e);
    opts.report(`export ${remote.name} failed: ${failureText(e)}`);
    return false;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
