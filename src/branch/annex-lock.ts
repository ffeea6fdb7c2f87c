/**
 * Seeing git-annex's journal lock. git-annex serialises journal changes
 * and branch commits with an fcntl write lock on `annex/journal.lck`.
 * Node cannot take fcntl locks, but on Linux it can see them in
 * /proc/locks, so annexgate waits for git-annex to let go before it
 * touches the journal. This narrows the races with a concurrent stock
 * git-annex to microseconds; it is not a lock (elsewhere than Linux,
 * nothing is seen and nothing waits).
 */
import { readFileSync, statSync } from "node:fs";

const POLL_MS = 5;

/**
 * Whether a process holds a POSIX (or OFD) write lock on `file`; false
 * when unknowable. Synchronous on purpose: it runs before every journal
 * write (git-annex takes that lock for each of its journal changes and
 * its commits, Annex/Journal.hs lockJournal, so there is no write it may
 * skip), and a stat and a read of /proc/locks take about 30 µs where the
 * thread-pool round trips of fs/promises took about 450 µs (measured
 * 10,000 times on the 2-core development machine).
 */
export async function isWriteLocked(file: string): Promise<boolean> {
  let ino: bigint;
  let locks: string;
  try {
    ino = statSync(file, { bigint: true }).ino;
    locks = readFileSync("/proc/locks", "utf8");
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
