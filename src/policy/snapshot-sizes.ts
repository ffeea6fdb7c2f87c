/**
 * The sizes preferred content weighs for balanced=, sizebalanced= and
 * fullybalanced= (git-annex's `getMaxSizes` and `getLiveRepoSizes` in
 * Limit.hs): maxsize.log and the current repository sizes, the same sizes
 * `annexgate info` shows, as a PolicySnapshot takes them: read once (a
 * command), or live, stores in flight included (the gateway).
 */
import { type AnnexBranch, readMaxSizes } from "../branch/index.js";
import type { Git } from "../git/index.js";
import type { LiveSizes } from "./live-sizes.js";
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
 * const policy = new Policy(await buildPolicySnapshot(here, await snapshotSizes(git, branch)));
 */
export async function snapshotSizes(
  git: Git,
  branch: AnnexBranch,
  opts: CurrentRepoSizesOptions = {},
): Promise<SnapshotSizes> {
  const [maxSizes, report] = await Promise.all([readMaxSizes(branch), currentRepoSizes(git, opts)]);
  return { maxSizes: toNumbers(maxSizes), repoSizes: toNumbers(report.sizes) };
}

/**
 * Brings `live` up to date with the branch (sizes and maxsize.log; the
 * transfers in flight stay counted) and returns sizes for a snapshot
 * whose repository sizes are read from `live` at the moment of asking, so
 * that preferred content sees the uploads under way.
 */
export async function refreshLiveSizes(
  live: LiveSizes,
  git: Git,
  branch: AnnexBranch,
): Promise<SnapshotSizes> {
  // maxsize.log first: sizes shared with other processes matter only
  // once a repository has a maximum size (SharedLiveSizes).
  const maxSizes = await readMaxSizes(branch);
  await live.refreshWith(async () => (await currentRepoSizes(git)).sizes, maxSizes);
  return { maxSizes: toNumbers(maxSizes), repoSizes: new LiveSizeView(live) };
}

/**
 * Repository sizes as preferred content reads them (by `get`), taken from
 * the live sizes at the moment of asking, stores in flight included.
 */
class LiveSizeView extends Map<string, number> {
  readonly #live: LiveSizes;

  constructor(live: LiveSizes) {
    super();
    this.#live = live;
  }
  override get(uuid: string): number {
    return Number(this.#live.size(uuid));
  }
  override has(): boolean {
    return true;
  }
}
