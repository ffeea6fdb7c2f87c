/**
 * Seeing git-annex's journal lock. git-annex serialises journal changes
 * and branch commits with an fcntl write lock on `annex/journal.lck`.
 * Node cannot take fcntl locks, but on Linux it can see them in
 * /proc/locks, so annexgate waits for git-annex to let go before it
 * touches the journal. This narrows the races with a concurrent stock
 * git-annex to microseconds; it is not a lock (elsewhere than Linux,
 * nothing is seen and nothing waits).
 */
import { readFile, stat } from "node:fs/promises";

const POLL_MS = 5;

/** Whether a process holds a POSIX (or OFD) write lock on `file`; false when unknowable. */
export async function isWriteLocked(file: string): Promise<boolean> {
  let ino: bigint;
  let locks: string;
  try {
    ino = (await stat(file, { bigint: true })).ino;
    locks = await readFile("/proc/locks", "utf8");
  } catch {
    return false;
  }
  // "1: POSIX  ADVISORY  WRITE 7140 fe:00:2197811 0 EOF"; blocked
  // waiters are listed with "->" and do not hold the lock.
  const suffix = `:${ino}`;
  return locks.split("\n").some((line) => {
    const f = line.trim().split(/\s+/);
    return (
      f[1] !== "->" &&
      (f[1] === "POSIX" || f[1] === "OFDLCK") &&
      f[3] === "WRITE" &&
      f[5]?.endsWith(suffix) === true
    );
  });
}

/**
 * Waits while `file` is write-locked, for at most `timeoutMs`. Returns
 * false if it was still locked at the end.
 */
export async function waitUnlocked(file: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isWriteLocked(file)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return true;
}
