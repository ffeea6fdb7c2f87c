/**
 * POSIX fcntl record locks, which git-annex takes (content lock files, the
 * journal lock) and Node cannot: held, or looked for, by one small perl
 * helper per process.
 */
export {
  EACCES,
  ENOENT,
  type FcntlLock,
  FcntlLockError,
  FcntlLocks,
  type FcntlLocksOptions,
  type LockKind,
  processFcntlLocks,
} from "./fcntl-locks.js";
