/**
 * Merging other repositories' git-annex branches into ours, the way
 * git-annex's Annex.Branch.update does after a `git fetch`: every
 * `refs/remotes/.../git-annex` that has commits ours lacks is merged by
 * union-merging each file (Git/UnionMerge.hs), in one commit whose parents
 * are our branch and the merged refs; when one of them already contains
 * all the others, the branch is fast-forwarded to it instead.
 *
 * This module computes; AnnexBranch.mergeRemoteBranches commits.
 */
import type { CatFileBatch, Git, TreeChange } from "../git/index.js";
import { unionMerge } from "./union.js";

/** Files whose difference means the histories cannot simply be unioned. */
const TRANSITIONS_LOG = "transitions.log";
const REMOTES_PREFIX = "refs/remotes/";
const BRANCH_SUFFIX = "/git-annex";

/** A ref to merge: its full name and the commit it names. */
export interface RemoteBranchRef {
  readonly ref: string;
  readonly sha: string;
}

/** Where clients' `git annex sync` pushes its view of the branch. */
const SYNCED_PREFIX = "refs/heads/synced/";

/**
 * Every `refs/remotes/<remote>/git-annex`, and `refs/heads/synced/git-annex`
 * (what `git annex sync` pushes into a repository), with its commit.
 */
export async function listRemoteBranches(git: Git): Promise<RemoteBranchRef[]> {
  const isBranch = (ref: string) => ref.endsWith(BRANCH_SUFFIX);
  // In for-each-ref's order: by name, so refs/heads/synced/ first.
  return [
    ...(await git.listRefs(SYNCED_PREFIX, isBranch)),
    ...(await git.listRefs(REMOTES_PREFIX, isBranch)),
  ];
}

/** How a ref is named in git-annex's merge message (Git.Ref.describe). */
export function describeRef(ref: string): string {
  for (const prefix of ["refs/heads/", REMOTES_PREFIX]) {
    if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  }
  return ref;
}

/** What merging some refs into the branch at `tip` comes to. */
export type MergePlan =
  | { readonly kind: "none" }
  | {
      readonly kind: "fast-forward";
      readonly to: RemoteBranchRef;
      readonly merged: readonly RemoteBranchRef[];
    }
  | {
      readonly kind: "merge";
      readonly tree: string;
      readonly parents: readonly string[];
      readonly message: string;
      readonly merged: readonly RemoteBranchRef[];
    };

/**
 * Plans the merge of the remote branches into `tip` (the git-annex
 * branch's commit). Refs already contained in `tip` are left out; so are
 * refs whose transitions.log differs from ours (their history was
 * rewritten by `git annex forget`, which only git-annex can replay):
 * `skipped` lists those.
 */
export async function planMerge(
  git: Git,
  cat: CatFileBatch,
  tip: string,
  refs: readonly RemoteBranchRef[],
): Promise<{ plan: MergePlan; skipped: RemoteBranchRef[] }> {
  const candidates: RemoteBranchRef[] = [];
  const skipped: RemoteBranchRef[] = [];
  const seen = new Set<string>([tip]);
  const read = async (treeish: string, path: string): Promise<string> =>
    ((await cat.get(`${treeish}:${path}`)) ?? Buffer.alloc(0)).toString("utf8");
  const ourTransitions = await read(tip, TRANSITIONS_LOG);
  for (const r of refs) {
    if (seen.has(r.sha)) continue;
    seen.add(r.sha);
    if (await git.isAncestor(r.sha, tip)) continue;
    if ((await read(r.sha, TRANSITIONS_LOG)) !== ourTransitions) {
      skipped.push(r);
      continue;
    }
    candidates.push(r);
  }
  if (candidates.length === 0) return { plan: { kind: "none" }, skipped };
  for (const c of candidates) {
    if (!(await git.isAncestor(tip, c.sha))) continue;
    let all = true;
    for (const o of candidates) {
      if (o !== c && !(await git.isAncestor(o.sha, c.sha))) {
        all = false;
        break;
      }
    }
    if (all) return { plan: { kind: "fast-forward", to: c, merged: candidates }, skipped };
  }
  const merged = new Map<string, string>();
  for (const c of candidates) {
    for (const d of await git.diffTrees(tip, c.sha)) {
      const ours = merged.get(d.path) ?? (await read(tip, d.path));
      merged.set(d.path, unionMerge([ours, await read(c.sha, d.path)]));
    }
  }
  const paths = [...merged.keys()];
  const shas = await git.hashObjects(paths.map((p) => merged.get(p) ?? ""));
  const changes: TreeChange[] = paths.map((path, i) => ({ path, sha: shas[i] ?? null }));
  const tree = await git.editTree(`${tip}^{tree}`, changes);
  const message = `merging ${candidates.map((c) => describeRef(c.ref)).join(" ")} into git-annex`;
  return {
    plan: {
      kind: "merge",
      tree,
      parents: [tip, ...candidates.map((c) => c.sha)],
      message,
      merged: candidates,
    },
    skipped,
  };
}
