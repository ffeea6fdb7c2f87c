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
import type { AnnexBranch } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { parseKey } from "../keys/index.js";
import { ObjectStore, repositoryLayout } from "../objects/index.js";
import { isExportRemote, type PeerKinds } from "../peers/index.js";
import { buildPolicySnapshot, snapshotSizes, weighsSizes } from "../policy/index.js";
import { loadKeyState, Policy, repositoryMatcher, wantsKey } from "../preferred-content/index.js";
import { loadGatewayConfig, proxiedRemoteFor, type Remote } from "../remotes/index.js";
import { exportToRemote } from "./export-remote.js";
import { type ExportWanted, failureText } from "./export-run.js";
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
  const policy = await exportPolicy(opts);
  const keys = new BlobKeys(opts.git);
  const objects = new ObjectStore(
    repositoryLayout(join(opts.git.gitDir, "annex"), opts.git.bare ? "lower" : "mixed"),
  );
  let ok = true;
  for (const { remote, pushed } of targets) {
    ok = (await exportOne(opts, remote, pushed, { keys, objects, policy })) && ok;
  }
  return ok;
}

/**
 * The policy the exports' preferred content is matched with: the one the
 * gateway and `matchexpression` use; with repository sizes only when an
 * expression weighs them, as git-annex reads them only then.
 */
async function exportPolicy(opts: PostReceiveOptions): Promise<Policy> {
  const snapshot = await buildPolicySnapshot(opts);
  if (!weighsSizes(snapshot)) return new Policy(snapshot);
  return new Policy({ ...snapshot, ...(await snapshotSizes(opts.git, opts.branch)) });
}

/**
 * Whether remote `uuid` wants an annexed file of the export (git-annex's
 * preferred content, which includes required content), or undefined when
 * it has no expression and takes every file. An expression that cannot be
 * evaluated fails the export rather than deciding either way.
 */
function exportWanted(branch: AnnexBranch, policy: Policy, uuid: string): ExportWanted | undefined {
  if (repositoryMatcher(policy, uuid, "preferred") === null) return undefined;
  return async (path, serialized) => {
    const key = parseKey(serialized);
    const state = await loadKeyState(branch, key);
    return wantsKey(policy, uuid, key, { file: path, state });
  };
}

async function exportOne(
  opts: PostReceiveOptions,
  remote: Remote,
  pushed: PushedExport,
  shared: { keys: BlobKeys; objects: ObjectStore; policy: Policy },
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
    // Read here, so that a failure to read it fails this remote's export only.
    const wants = exportWanted(opts.branch, shared.policy, remote.uuid);
    return await exportToRemote(
      {
        git: opts.git,
        branch: opts.branch,
        here: opts.uuid,
        remote: { name: remote.name, uuid: remote.uuid },
        files,
        keys: shared.keys,
        objects: shared.objects,
        ...(wants === undefined ? {} : { wants }),
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
