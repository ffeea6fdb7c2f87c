/**
 * Opening a git-annex repository on this machine for serving: its git
 * plumbing, its git-annex branch (committed in a timely way), its object
 * store, and the LocalPeer over them.
 */
import { join } from "node:path";
import { AnnexBranch, setLocation } from "../../branch/index.js";
import { AnnexgateError } from "../../errors.js";
import { Git } from "../../git/index.js";
import { ContentLocks, ObjectStore, repositoryLayout } from "../../objects/index.js";
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

export interface LocalRepository {
  readonly dir: string;
  readonly uuid: string;
  readonly git: Git;
  readonly branch: AnnexBranch;
  readonly store: ObjectStore;
  readonly peer: LocalPeer;
  /** Commit what is pending to the git-annex branch and stop background work. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Commit the git-annex branch at most this long after a change (ms). */
  readonly commitDelayMs?: number;
  readonly onCommitError?: (err: unknown) => void;
}

export async function openLocalRepository(
  dir: string,
  opts: OpenOptions = {},
): Promise<LocalRepository> {
  let git: Git;
  try {
    git = await Git.open(dir);
  } catch (e) {
    throw new NotAnnexRepositoryError(dir, e);
  }
  const uuid = await git.configGet("annex.uuid");
  if (!uuid) throw new NotAnnexRepositoryError(dir);
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
  return {
    dir,
    uuid,
    git,
    branch,
    store,
    peer,
    close: async () => {
      await peer.close();
      await branch.close();
    },
  };
}
