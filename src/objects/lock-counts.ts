/**
 * Live counts of the locks this process holds, summed over every store and
 * lock table: a lock that is never released shows as a count that does not
 * come back down. Front-ends report them (tests compare them before and
 * after a client is cut off).
 */
export interface ObjectLockCounts {
  /** Per-key turns held or waited for (receives, removals, lock files). */
  readonly keyLocks: number;
  /** Content locks taken and not yet released. */
  readonly contentLocks: number;
}

const live = { keyLocks: 0, contentLocks: 0 };

export function objectLockCounts(): ObjectLockCounts {
  return { ...live };
}

/** Counts one key lock taken (+1) or given back (-1). */
export function countKeyLock(delta: 1 | -1): void {
  live.keyLocks += delta;
}

/** Counts one content lock taken (+1) or released (-1). */
export function countContentLock(delta: 1 | -1): void {
  live.contentLocks += delta;
}
