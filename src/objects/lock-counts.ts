/**
 * Live counts of the locks this process holds, summed over every store and
 * lock table: a lock that is never released shows as a count that does not
 * come back down. Front-ends report them (tests compare them before and
 * after a client is cut off).
 */
import { KeyedMutex } from "../util/index.js";

export interface ObjectLockCounts {
  /** Keys whose per-key turn is held or waited for (receives, removals, lock files). */
  readonly keyLocks: number;
  /** Content locks taken and not yet released. */
  readonly contentLocks: number;
}

let contentLocks = 0;
/** Weak: a store dropped by its owner takes its turns out of the count. */
const keyMutexes = new Set<WeakRef<KeyedMutex>>();

/** A per-key mutex of the object layer, counted in objectLockCounts(). */
export function countedKeyMutex(): KeyedMutex {
  const m = new KeyedMutex();
  keyMutexes.add(new WeakRef(m));
  return m;
}

export function objectLockCounts(): ObjectLockCounts {
  let keyLocks = 0;
  for (const ref of keyMutexes) {
    const m = ref.deref();
    if (m === undefined) keyMutexes.delete(ref);
    else keyLocks += m.held();
  }
  return { keyLocks, contentLocks };
}

/** Counts one content lock taken (+1) or released (-1). */
export function countContentLock(delta: 1 | -1): void {
  contentLocks += delta;
}
