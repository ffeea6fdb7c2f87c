/**
 * Content locks: while a key is locked (LOCKCONTENT, or p2phttp
 * `lockcontent`), its content must not be removed. Shared locks that expire,
 * as git-annex's do: a lock lasts `retentionMs` (10 minutes) unless released
 * earlier, so a client that vanishes cannot pin content forever.
 *
 * These locks live in this process; they protect against removals that go
 * through annexgate.
 */
import { countContentLock } from "./lock-counts.js";

export const DEFAULT_LOCK_RETENTION_MS = 10 * 60 * 1000;

export interface HeldLock {
  /** Keep the lock from expiring until release (p2phttp keeplocked). */
  pin(): void;
  release(): void;
}

interface Holder {
  expires: number;
  pinned: boolean;
  released: boolean;
}

export class ContentLocks {
  readonly #holders = new Map<string, Set<Holder>>();
  readonly #removing = new Set<string>();

  readonly #retentionMs: number;
  readonly #now: () => number;

  constructor(
    retentionMs = DEFAULT_LOCK_RETENTION_MS,
    now: () => number = () => performance.now(),
  ) {
    this.#retentionMs = retentionMs;
    this.#now = now;
  }

  /** Take a shared lock, or null while the key is being removed. */
  lock(name: string): HeldLock | null {
    if (this.#removing.has(name)) return null;
    const holder: Holder = {
      expires: this.#now() + this.#retentionMs,
      pinned: false,
      released: false,
    };
    let set = this.#holders.get(name);
    if (!set) {
      set = new Set();
      this.#holders.set(name, set);
    }
    set.add(holder);
    countContentLock(1);
    return {
      pin: () => {
        holder.pinned = true;
      },
      release: () => {
        if (holder.released) return;
        countContentLock(-1);
        holder.released = true;
        const s = this.#holders.get(name);
        s?.delete(holder);
        if (s && s.size === 0) this.#holders.delete(name);
      },
    };
  }

  isLocked(name: string): boolean {
    const set = this.#holders.get(name);
    if (!set) return false;
    const t = this.#now();
    for (const h of set) {
      if (h.pinned || h.expires > t) return true;
      set.delete(h); // expired
    }
    this.#holders.delete(name);
    return false;
  }

  /**
   * Run a removal of `name` unless it is locked; no lock can be taken while
   * it runs. Returns null (without running) when locked.
   */
  async whileRemoving<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    if (this.isLocked(name) || this.#removing.has(name)) return null;
    this.#removing.add(name);
    try {
      return await fn();
    } finally {
      this.#removing.delete(name);
    }
  }
}
