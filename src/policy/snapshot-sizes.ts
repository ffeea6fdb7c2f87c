/**
 * The sizes preferred content weighs for balanced=, sizebalanced= and
 * fullybalanced= (git-annex's `getMaxSizes` and `getLiveRepoSizes` in
 * Limit.hs): maxsize.log and the current repository sizes, the same sizes
 * `annexgate info` shows, as a PolicySnapshot takes them.
 */
import { type AnnexBranch, readMaxSizes } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { type CurrentRepoSizesOptions, currentRepoSizes } from "./repo-sizes/repo-sizes.js";

/** maxsize.log and repository sizes, in bytes, for a PolicySnapshot. */
export interface SnapshotSizes {
  readonly maxSizes: ReadonlyMap<string, number>;
  readonly repoSizes: ReadonlyMap<string, number>;
}

function toNumbers(m: ReadonlyMap<string, bigint>): Map<string, number> {
  return new Map([...m].map(([u, n]) => [u, Number(n)]));
}

/**
 * Reads maxsize.log and the current repository sizes (cached, moved
 * forward, or scanned; journal included).
 *
 * @example
 * const policy = new Policy(await loadPolicySnapshot(branch, await snapshotSizes(git, branch)));
 */
export async function snapshotSizes(
  git: Git,
  branch: AnnexBranch,
  opts: CurrentRepoSizesOptions = {},
): Promise<SnapshotSizes> {
  const [maxSizes, report] = await Promise.all([readMaxSizes(branch), currentRepoSizes(git, opts)]);
  return { maxSizes: toNumbers(maxSizes), repoSizes: toNumbers(report.sizes) };
}
