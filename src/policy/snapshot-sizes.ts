/**
 * The sizes preferred content weighs for balanced=, sizebalanced= and
 * fullybalanced= (git-annex's `getMaxSizes` and `getLiveRepoSizes` in
 * Limit.hs): maxsize.log and the current repository sizes, the same sizes
 * `annexgate info` shows, as a PolicySnapshot takes them: read once (a
 * command), or live, stores in flight included (the gateway).
 */
import { type AnnexBranch, readMaxSizes } from "../branch/index.js";
import type { Git } from "../git/index.js";
import type { Logger } from "../util/index.js";
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
 * A full computation of repository sizes (the first on a large branch can
 * take minutes) told in the log: when it starts, every ten seconds how
 * far it got, and when it ends.
 */
function fullComputationLog(logger: Logger): CurrentRepoSizesOptions & { done(): void } {
  let started = 0;
  let last = 0;
  let read = 0;
  return {
    onFullComputation: () => {
      started = performance.now();
      last = started;
      logger.info({}, "calculating repository sizes from every location log");
    },
    onProgress: (n) => {
      read = n;
      const now = performance.now();
      if (started === 0 || now - last < 10_000) return;
      last = now;
      logger.info({ logsRead: n }, `calculating repository sizes: ${n} location logs read`);
    },
    done: () => {
      if (started === 0) return;
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      logger.info({ logsRead: read, seconds }, "repository sizes calculated");
      started = 0;
    },
  };
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
  logger?: Logger,
): Promise<SnapshotSizes> {
  // maxsize.log first: sizes shared with other processes matter only
  // once a repository has a maximum size (SharedLiveSizes).
  const maxSizes = await readMaxSizes(branch);
  const told = logger ? fullComputationLog(logger) : undefined;
  await live.refreshWith(async () => {
    const report = await currentRepoSizes(git, told ?? {});
    told?.done();
    return report.sizes;
  }, maxSizes);
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
