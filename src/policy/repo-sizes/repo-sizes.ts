/**
 * The current size of every repository, kept up to date cheaply: sizes
 * cached at one branch commit are moved to the current commit by diffing,
 * and only a repository seen for the first time is scanned in full
 * (Annex/RepoSize.hs `calcRepoSizes`).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  BRANCH_REF,
  deadUuidsFromLog,
  parseUuidLog,
  TRUST_LOG,
  UUID_LOG,
} from "../../branch/index.js";
import type { Git } from "../../git/index.js";
import { loadRepoSizesCache, saveRepoSizesCache } from "./cache.js";
import {
  type ComputeOptions,
  computeRepoSizes,
  updateRepoSizes,
  withJournalledChanges,
} from "./compute.js";
import type { RepoSizes } from "./sizes-map.js";

/** Options for {@link currentRepoSizes}. */
export interface CurrentRepoSizesOptions extends ComputeOptions {
  /** Told when a full computation starts (so a caller can show progress). */
  readonly onFullComputation?: () => void;
  /** Leave out uncommitted journal changes (default: included, as git-annex does). */
  readonly ignoreJournal?: boolean;
}

/** Repository sizes and how they were arrived at. */
export interface RepoSizesReport {
  /** The git-annex branch commit the committed part is as of (null: no branch yet). */
  readonly commit: string | null;
  /** "cached": unchanged since last time; "incremental": diffed forward; "full": scanned. */
  readonly how: "cached" | "incremental" | "full" | "empty";
  /**
   * Bytes per repository UUID: every repository uuid.log knows (and this
   * one) is present, at 0 when it has nothing.
   */
  readonly sizes: RepoSizes;
  /** How many uncommitted location logs were read from the journal. */
  readonly journalLogs: number;
}

async function branchFile(git: Git, commit: string, path: string): Promise<string> {
  const journalled = await readFile(join(git.gitDir, "annex", "journal", path), "utf8").catch(
    () => null,
  );
  if (journalled !== null) return journalled;
  const out = await git.run(["cat-file", "-p", `${commit}:${path}`]).catch(() => null);
  return out === null ? "" : out.toString("utf8");
}

/**
 * The repositories git-annex knows by UUID (uuid.log, journal included)
 * plus this repository's own UUID (git-annex `uuidDescMap`).
 */
export async function knownRepositories(git: Git, commit: string | null): Promise<string[]> {
  const known =
    commit === null ? [] : [...parseUuidLog(await branchFile(git, commit, UUID_LOG)).keys()];
  const here = await git.configGet("annex.uuid");
  if (here !== null && here !== "" && !known.includes(here)) known.push(here);
  return known;
}

/**
 * The size of every repository as of now: the cache when the branch has
 * not moved, else the cache moved forward by diffing, else a full scan
 * (whose result is cached for next time); then journalled changes on top.
 *
 * @example
 * const { sizes } = await currentRepoSizes(git, { onProgress: (n) => show(n) });
 */
export async function currentRepoSizes(
  git: Git,
  opts: CurrentRepoSizesOptions = {},
): Promise<RepoSizesReport> {
  const commit = await git.revParse(BRANCH_REF);
  let sizes: RepoSizes = new Map();
  let how: RepoSizesReport["how"] = "empty";
  if (commit !== null) {
    const cached = await loadRepoSizesCache(git);
    if (cached !== null && cached.commit === commit) {
      sizes = cached.sizes;
      how = "cached";
    } else {
      let moved: RepoSizes | null = null;
      if (cached !== null) {
        moved = await updateRepoSizes(git, cached.sizes, cached.commit, commit, opts).catch(
          // the old commit is gone (history rewritten and pruned): rescan
          () => null,
        );
      }
      if (moved !== null) {
        sizes = moved;
        how = "incremental";
      } else {
        opts.onFullComputation?.();
        sizes = await computeRepoSizes(git, commit, opts);
        how = "full";
      }
      await saveRepoSizesCache(git, commit, sizes);
    }
  }
  let journalLogs = 0;
  if (opts.ignoreJournal !== true) {
    ({ sizes, logsRead: journalLogs } = await withJournalledChanges(git, sizes, commit));
  }
  for (const u of await knownRepositories(git, commit)) if (!sizes.has(u)) sizes.set(u, 0n);
  return { commit, how, sizes, journalLogs };
}

/**
 * The repositories trust.log marks dead (git-annex `trustGet DeadTrusted`,
 * without git config overrides); `git annex info` leaves them out.
 */
export async function deadRepositories(git: Git): Promise<Set<string>> {
  const commit = await git.revParse(BRANCH_REF);
  if (commit === null) return new Set();
  return deadUuidsFromLog(await branchFile(git, commit, TRUST_LOG));
}
