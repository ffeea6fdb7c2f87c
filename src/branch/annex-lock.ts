/**
 * Seeing git-annex's journal lock. git-annex serialises journal changes
 * and branch commits with an fcntl write lock on `annex/journal.lck`.
 * annexgate looks for that lock (through its fcntl helper, see ../locks)
 * and waits for git-annex to let go before it touches the journal. This
 * narrows the races with a concurrent stock git-annex to well under a
 * millisecond; it is not a lock.
 */
import { readFileSync, statSync } from "node:fs";
import { processFcntlLocks } from "../locks/index.js";

const POLL_MS = 5;
/** A helper that has not answered by then (stuck on a hung file system) is not waited for. */
const HELPER_ANSWER_MS = 2000;

/**
 * Whether another process holds a POSIX (or OFD) write lock on `file`;
 * false when it is missing or unknowable. It runs before every journal
 * write (git-annex takes that lock for each of its journal changes and
 * its commits, Annex/Journal.hs lockJournal, so there is no write it may
 * skip). The process's fcntl helper asks the kernel (F_GETLK), off the
 * event loop; only when that helper cannot say, or is slow to, is
 * /proc/locks read.
 */
export async function isWriteLocked(file: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), HELPER_ANSWER_MS);
  });
  try {
    const answer = await Promise.race([processFcntlLocks().isWriteLocked(file), late]);
    if (answer !== "late") return answer;
  } catch {
    // The helper cannot say (it cannot run, or cannot open the file).
  } finally {
    clearTimeout(timer);
  }
  return isWriteLockedInProcLocks(file);
}

/**
 * The same question answered from /proc/locks (Linux): every read of it
 * takes the kernel's file-lock lock for writing, which can wait for an RCU
 * grace period (12 to 20 ms for the first read in a process, 0.1 to 1 ms
 * spaced reads, measured on the 2-core development machine), on the event
 * loop; hence only a fallback.
 */
export function isWriteLockedInProcLocks(file: string): boolean {
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
