/**
 * Opening a git-annex repository on this machine for serving: its git
 * plumbing, its git-annex branch (committed in a timely way), its object
 * store, and the LocalPeer over them.
 */
import { join } from "node:path";
import { AnnexBranch, setLocation } from "../../branch/index.js";
import { AnnexgateError } from "../../errors.js";
import { Git } from "../../git/index.js";
import {
  ContentLocks,
  isBadLimit,
  ObjectStore,
  repositoryLayout,
  type TmpLimits,
  type TmpLimitText,
  TmpReclaimer,
  tmpLimitsFrom,
} from "../../objects/index.js";
import { errorText, type Logger } from "../../util/index.js";
import { LocalPeer } from "./local-peer.js";

export class NotAnnexRepositoryError extends AnnexgateError {
  constructor(dir: string, cause?: unknown) {
    super(
      "AG_NOT_ANNEX_REPO",
      `${dir} is not a git-annex repository (no annex.uuid)`,
      { dir },
      cause,
    );
  }
}

/** A setting in a repository's git config that cannot be read; `data.dir` says where. */
export class BadSettingError extends AnnexgateError {
  constructor(dir: string, name: string, cause: Error) {
    super("AG_BAD_SETTING", `git config ${name}: ${cause.message}`, { dir, name }, cause);
  }
}

export interface LocalRepository {
  readonly dir: string;
  readonly uuid: string;
  readonly git: Git;
  readonly branch: AnnexBranch;
  readonly store: ObjectStore;
  readonly peer: LocalPeer;
  /** Reclaims abandoned partial uploads; null unless asked for (a long-running server). */
  readonly reclaimer: TmpReclaimer | null;
  /** Commit what is pending to the git-annex branch and stop background work. */
  close(): Promise<void>;
}

export interface LocalRepositoryOptions {
  /** Commit the git-annex branch at most this long after a change (ms). */
  readonly commitDelayMs?: number;
  readonly onCommitError?: (err: unknown) => void;
  /**
   * Reclaim abandoned partial uploads, at once and from then on, within
   * these limits; each one not given is the repository's git config
   * `annexgate.tmp-max-age` / `annexgate.tmp-max-size`, else the default.
   */
  readonly tmpReclaim?: TmpLimitText;
  readonly logger?: Logger;
  /**
   * The repository as the caller already opened it (its Git and
   * annex.uuid), so that it is not looked up again: every git run is a
   * process start, and `annexgate shell` pays them on each ssh login.
   */
  readonly opened?: { readonly git: Git; readonly uuid: string };
}

/** The limits for one repository: the given ones, else its git config's. */
async function tmpLimitsOf(dir: string, git: Git, given: TmpLimitText): Promise<TmpLimits> {
  const fromConfig = async <T>(
    name: string,
    value: string | undefined,
    read: (t?: string) => T,
  ) => {
    if (value !== undefined) return read(value);
    const text = (await git.configGet(name)) ?? undefined;
    try {
      return read(text);
    } catch (e) {
      if (isBadLimit(e)) throw new BadSettingError(dir, name, e);
      throw e;
    }
  };
  const maxAgeMs = await fromConfig(
    "annexgate.tmp-max-age",
    given.maxAge,
    (maxAge) => tmpLimitsFrom({ maxAge }).maxAgeMs,
  );
  const maxBytes = await fromConfig(
    "annexgate.tmp-max-size",
    given.maxSize,
    (maxSize) => tmpLimitsFrom({ maxSize }).maxBytes,
  );
  return { maxAgeMs, maxBytes };
}

export async function openLocalRepository(
  dir: string,
  opts: LocalRepositoryOptions = {},
): Promise<LocalRepository> {
  let git: Git;
  let uuid: string | null;
  if (opts.opened !== undefined) {
    ({ git, uuid } = opts.opened);
  } else {
    try {
      git = await Git.open(dir);
    } catch (e) {
      throw new NotAnnexRepositoryError(dir, e);
    }
    uuid = await git.configGet("annex.uuid");
  }
  if (!uuid) throw new NotAnnexRepositoryError(dir);
  const limits = opts.tmpReclaim ? await tmpLimitsOf(dir, git, opts.tmpReclaim) : null;
  const branch = await AnnexBranch.open(git);
  branch.startAutoCommit({
    delayMs: opts.commitDelayMs ?? 1000,
    ...(opts.onCommitError ? { onError: opts.onCommitError } : {}),
  });
  const store = new ObjectStore(
    repositoryLayout(join(git.gitDir, "annex"), git.bare ? "lower" : "mixed"),
  );
  const peer = new LocalPeer({
    uuid,
    store,
    locks: new ContentLocks(),
    recordLocation: async (key, present) => {
      await setLocation(branch, key, uuid, present);
    },
  });
  const logger = opts.logger?.child({ repo: dir });
  const reclaimer = limits ? new TmpReclaimer(store, limits, logger ? { logger } : {}) : null;
  // The first round runs in the background: serving need not wait for it.
  reclaimer
    ?.start()
    .catch((e: unknown) =>
      logger?.warn({ err: errorText(e) }, "reclaiming partial uploads failed"),
    );
  return {
    dir,
    uuid,
    git,
    branch,
    store,
    peer,
    reclaimer,
    close: async () => {
      await reclaimer?.stop();
      await peer.close();
      await branch.close();
    },
  };
}
