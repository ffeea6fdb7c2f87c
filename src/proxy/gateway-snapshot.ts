/**
 * The gateway's view of its configuration and policy, kept current while
 * it serves: a change to the git config or the git-annex branch
 * (`annexgate updatecluster`, a `git config`, a client's push) is picked
 * up on the next request, checked at most once per interval.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { LocalRepository } from "../peers/index.js";
import { buildPolicySnapshot, type LiveSizes, refreshLiveSizes } from "../policy/index.js";
import { Policy } from "../preferred-content/index.js";
import type { GatewayConfig } from "../remotes/index.js";
import { errorText, type Logger } from "../util/index.js";

/**
 * Logged when the configuration has been read, at the first request and
 * after each change from outside (the git config, a pushed or fetched
 * git-annex branch: a `git annex wanted` a client pushed, say), once it is
 * what requests are answered from.
 */
export const RELOADED = "read the configuration and the git-annex branch";

/** How often, at most, sizes are read again when only our own per-key commits moved the branch. */
const SIZES_REFRESH_MS = 10_000;

/** What a snapshot was read from: see {@link readStamp}. */
interface Stamp {
  readonly own: string;
  readonly outside: string;
}

export interface GatewaySnapshot {
  readonly cfg: GatewayConfig;
  /** Preferred content, groups, trust, numcopies, sizes: who wants what. */
  readonly policy: Policy;
}

interface Held extends GatewaySnapshot {
  readonly stamp: Stamp;
  readonly checkedAt: number;
}

export interface GatewaySnapshotsOptions {
  readonly repo: LocalRepository;
  /** Reads the gateway's configuration (the remotes layer's routes). */
  readonly loadConfig: () => Promise<GatewayConfig>;
  /** Called with each configuration read, before the snapshot is used. */
  readonly onConfig?: (cfg: GatewayConfig) => void;
  /** Repository sizes with the transfers in flight; brought up to date at each reload. */
  readonly live: LiveSizes;
  /** How often, at most, to look for changes (ms, default 1000). */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export class GatewaySnapshots {
  #held: Held | null = null;
  #checking: Promise<Held> | null = null;
  #refreshing: Promise<Held> | null = null;
  #reloads: Promise<unknown> = Promise.resolve();
  /** When repository sizes were last read from the branch. */
  #sizesAt = 0;
  /**
   * A reload that has merged pushed branches into the git-annex branch and
   * not yet installed the snapshot read from it. The merge is visible to
   * anyone reading the branch at once (`git annex sync` then reads it back),
   * so from then on a request waits for that snapshot rather than answer
   * from one older than what the branch already says.
   */
  #merged: Promise<Held> | null = null;

  readonly #opts: GatewaySnapshotsOptions;
  constructor(opts: GatewaySnapshotsOptions) {
    this.#opts = opts;
  }

  /**
   * The snapshot to answer from. At most once an interval it checks
   * whether anything changed: a change from outside (git config, branches
   * pushed or fetched) is waited for; when only the gateway's own branch
   * moved (its own location-log commits, or a local command), the snapshot
   * is refreshed in the background and requests go on meanwhile.
   */
  async current(): Promise<GatewaySnapshot> {
    if (this.#merged !== null) return this.#merged;
    const s = this.#held;
    const interval = this.#opts.intervalMs ?? 1000;
    if (s !== null && Date.now() - s.checkedAt < interval) return s;
    this.#checking ??= this.#check().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  /** Waits for a reload under way (it reads the repository), so the repository can be closed. */
  async settle(): Promise<void> {
    await this.#reloads;
  }

  async #check(): Promise<Held> {
    const stamp = await readStamp(this.#opts.repo);
    // The latest snapshot, read after the stamp: a background reload may
    // have replaced the one there was when the check began.
    const old = this.#held;
    if (old !== null && old.stamp.outside === stamp.outside) {
      const checked = { ...old, checkedAt: Date.now() };
      this.#held = checked;
      if (old.stamp.own !== stamp.own && this.#movedByOwnKeyLogs(stamp)) {
        // Nothing the snapshot holds changed: keep it, and bring the
        // sizes up to date now and then (they count our stores anyway).
        const kept = { ...checked, stamp };
        this.#held = kept;
        this.#refreshSizesNowAndThen();
        return kept;
      }
      if (old.stamp.own !== stamp.own) {
        this.#refreshing ??= this.#reload()
          .catch((e) => {
            this.#opts.logger?.error(
              { err: errorText(e) },
              "reloading the gateway configuration failed",
            );
            return old;
          })
          .finally(() => {
            this.#refreshing = null;
          });
      }
      return checked;
    }
    // Told once installed: a request after this line is answered from it.
    return this.#reload().then((held) => {
      this.#opts.logger?.info({ repo: this.#opts.repo.dir }, RELOADED);
      return held;
    });
  }

  /**
   * Whether the branch is at a commit of this process that changed only
   * per-key logs (location logs, metadata, chunk logs: files under the
   * hash directories). The snapshot holds what the top-level logs and
   * the git config say, and reads per-key logs when asked, so such a
   * commit (the gateway's own, once a second while uploads come) needs
   * no reload: skipping it saves the reload's git runs each time.
   */
  #movedByOwnKeyLogs(stamp: Stamp): boolean {
    const last = this.#opts.repo.branch.lastJournalCommit();
    if (last === null || stamp.own.split(" ")[0] !== last.commit) return false;
    for (const path of last.paths) if (!path.includes("/")) return false;
    return true;
  }

  /** Sizes read again from the branch at most every SIZES_REFRESH_MS, in the background. */
  #refreshSizesNowAndThen(): void {
    if (Date.now() - this.#sizesAt < SIZES_REFRESH_MS) return;
    this.#sizesAt = Date.now();
    const { repo, live, logger } = this.#opts;
    const refresh = this.#reloads.then(() => refreshLiveSizes(live, repo.git, repo.branch, logger));
    this.#reloads = refresh.catch((e: unknown) =>
      logger?.error({ err: errorText(e) }, "reading repository sizes failed"),
    );
  }

  /**
   * Reloads run one at a time, in the order asked: a later one always
   * finishes last, so an older view never replaces a newer one.
   */
  #reload(): Promise<Held> {
    const next = this.#reloads.then(() => this.#load());
    this.#reloads = next.catch(() => undefined);
    return next;
  }

  async #load(): Promise<Held> {
    const { repo } = this.#opts;
    // Taken first: a change made while loading is seen at the next check.
    const stamp = await readStamp(repo);
    // What clients pushed (git annex sync) and remotes' branches fetched
    // since: merged first, as git-annex does before it reads the branch.
    let merged: string[] = [];
    try {
      merged = await repo.branch.mergeRemoteBranches();
    } catch (e) {
      this.#opts.logger?.error(
        { repo: repo.dir, err: errorText(e) },
        "merging git-annex branches failed",
      );
    }
    const installing = this.#install(stamp);
    if (merged.length === 0) return installing;
    this.#merged = installing;
    try {
      return await installing;
    } finally {
      if (this.#merged === installing) this.#merged = null;
    }
  }

  /** Reads the configuration and policy as the branch now says, and answers from them. */
  async #install(stamp: Stamp): Promise<Held> {
    const { repo, live } = this.#opts;
    const cfg = await this.#opts.loadConfig();
    this.#opts.onConfig?.(cfg);
    const sizes = await refreshLiveSizes(live, repo.git, repo.branch, this.#opts.logger);
    this.#sizesAt = Date.now();
    const policy = new Policy(await buildPolicySnapshot(repo, sizes));
    this.#held = { cfg, policy, stamp, checkedAt: Date.now() };
    return this.#held;
  }
}

/**
 * The gateway's own git-annex branch tip, and apart from it what only
 * changes from outside: the branches clients push (synced/git-annex)
 * and remotes' fetched branches, and the git config file's mtime.
 */
async function readStamp(repo: LocalRepository): Promise<Stamp> {
  const { git } = repo;
  const isBranch = (ref: string) => ref.endsWith("/git-annex");
  // Read from git's ref files (no git process): this runs once a second.
  const tip = await git.revParse("refs/heads/git-annex");
  const refs = [
    ...(await git.listRefs("refs/heads/synced/", isBranch)),
    ...(await git.listRefs("refs/remotes/", isBranch)),
  ].map((r) => `${r.sha} ${r.ref}`);
  let mtime = 0;
  try {
    mtime = (await stat(join(git.gitDir, "config"))).mtimeMs;
  } catch {
    // no config file: nothing configured
  }
  const own = tip === null ? "" : `${tip} refs/heads/git-annex`;
  return { own, outside: `${refs.join(" ")} ${mtime}` };
}
