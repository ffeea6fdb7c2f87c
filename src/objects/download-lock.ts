/**
 * git-annex's download lock, held while a key is received into its temp
 * file: an exclusive fcntl lock on `annex/transfer/download/lck/lck.KEY`
 * (Logs/Transfer.hs, transferFileAndLockFile), taken without waiting and
 * removed when the transfer ends (Annex/Transfer.hs). Holding it makes a
 * stock git-annex in the same repository refuse to receive the same key at
 * the same time ("transfer already in progress"), and tells another
 * process (a stock one, or another annexgate) that the temp file is being
 * written, so it is not reclaimed under the writer.
 */
import { rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import type { FcntlLocks } from "../locks/index.js";
import { ensureDir } from "./dirs.js";
import { downloadLockFileIn } from "./layout.js";

/**
 * Run `fn` holding the download lock of the temp file named `tmpName`;
 * `busy` (without running it) while another process holds it. Where no
 * transfer directory is kept, or the lock cannot be taken at all (a
 * read-only transfer directory), `fn` runs unlocked: this process's own
 * turns on the temp file still hold, and uploads must not stop over it.
 */
export async function withDownloadLock<T, B>(
  locks: FcntlLocks,
  transferDir: string | undefined,
  tmpName: string,
  busy: B,
  fn: () => Promise<T>,
): Promise<T | B> {
  if (transferDir === undefined) return fn();
  const lck = downloadLockFileIn(transferDir, tmpName);
  let held: Awaited<ReturnType<FcntlLocks["tryLock"]>>;
  try {
    // Only inside an annex directory that is there: a repository moved or
    // deleted under a running server is not recreated here (the receive
    // refuses it).
    await stat(dirname(transferDir));
    await ensureDir(dirname(lck));
    held = await locks.tryLock(lck, "exclusive");
  } catch {
    return fn();
  }
  if (held === null) return busy;
  try {
    return await fn();
  } finally {
    // Removed while still held, as git-annex does, so that nobody locks a
    // file that is about to go.
    await rm(lck, { force: true }).catch(() => undefined);
    await held.release().catch(() => undefined);
  }
}
