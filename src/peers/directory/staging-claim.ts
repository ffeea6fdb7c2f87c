/**
 * One writer at a time for a key's staged file in a directory special
 * remote. The Peer hashes the bytes it streams, so the file it publishes
 * must hold only those bytes: another writer of the same key (a second
 * Peer over the same directory in this process, or another annexgate
 * process: each ssh login is one) must not write into it meanwhile.
 * Within the process a set of claimed files says so; across processes an
 * exclusive fcntl lock on `tmp/<keyFile>.lck` beside the staged key
 * directory (removed while still held when the store ends, as git-annex
 * does with its transfer locks). Stock git-annex takes no such lock: it
 * writes that file only from content it has already verified.
 */
import { rm } from "node:fs/promises";
import { type FcntlLock, type FcntlLocks, processFcntlLocks } from "../../locks/index.js";
import { PeerRefusedError } from "../peer.js";

const CLAIMED = new Set<string>();

export interface StagingClaim {
  release(): Promise<void>;
}

/**
 * Claim the staging of the key whose lock file is `lockFile`, or fail with
 * git-annex's words when another writer has it. Where fcntl locks cannot
 * be taken at all, only this process's claim holds.
 *
 * @throws PeerRefusedError ("transfer already in progress")
 */
export async function claimStaging(
  lockFile: string,
  locks: FcntlLocks = processFcntlLocks(),
): Promise<StagingClaim> {
  if (CLAIMED.has(lockFile)) throw inProgress();
  CLAIMED.add(lockFile);
  let held: FcntlLock | null | undefined;
  try {
    held = await locks.tryLock(lockFile, "exclusive");
  } catch {
    held = undefined;
  }
  if (held === null) {
    CLAIMED.delete(lockFile);
    throw inProgress();
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await rm(lockFile, { force: true }).catch(() => undefined);
      await held?.release().catch(() => undefined);
      CLAIMED.delete(lockFile);
    },
  };
}

function inProgress(): PeerRefusedError {
  return new PeerRefusedError("transfer already in progress, or unable to take transfer lock", {
    busy: true,
  });
}
