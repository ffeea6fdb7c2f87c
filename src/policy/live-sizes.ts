/**
 * Repository sizes adjusted for transfers in flight, so that concurrent
 * stores cannot together overfill a repository (git-annex's live size
 * changes, Annex/RepoSize/LiveUpdate.hs, kept here in process).
 *
 * A store counts against its repository from the moment it is reserved
 * until it ends: committed, its bytes stay counted (until fresh sizes from
 * the branch include them); released (failure, abort), they are given
 * back. A remove in flight frees nothing until it is committed: like
 * git-annex, this errs on the side of a repository seeming fuller than it
 * is, never emptier.
 */
import { repoHasSpace } from "../sizes/index.js";

/** One store or remove in flight. Ending it twice is harmless. */
export interface Reservation {
  readonly uuid: string;
  readonly bytes: bigint;
  readonly kind: "store" | "remove";
  /** The transfer succeeded (and its location change is recorded). */
  commit(): void;
  /** The transfer failed or was abandoned. */
  release(): void;
}

interface Settled {
  readonly seq: number;
  readonly uuid: string;
  readonly delta: bigint;
}

/**
 * Sizes and maximum sizes of repositories, plus what is in flight.
 * All methods are synchronous, so a check-and-reserve cannot interleave
 * with another one.
 *
 * @example
 * const live = new LiveSizes((await currentRepoSizes(git)).sizes, await readMaxSizes(branch));
 * const r = live.reserve(node, BigInt(key.size));
 * if (r === null) return "no room";
 * try { await store(); r.commit(); } catch (e) { r.release(); throw e; }
 */
export class LiveSizes {
  #base = new Map<string, bigint>();
  #maxSizes = new Map<string, bigint>();
  #storing = new Map<string, bigint>();
  #removing = new Map<string, bigint>();
  #settled: Settled[] = [];
  #seq = 0;
  /** What other processes add (see SharedLiveSizes); none when alone. */
  #others: ReadonlyMap<string, bigint> = new Map();

  constructor(
    sizes: ReadonlyMap<string, bigint> = new Map(),
    maxSizes: ReadonlyMap<string, bigint> = new Map(),
  ) {
    this.#base = new Map(sizes);
    this.#maxSizes = new Map(maxSizes);
  }

  /** Replaces the maximum sizes (maxsize.log changed). */
  setMaxSizes(maxSizes: ReadonlyMap<string, bigint>): void {
    this.#maxSizes = new Map(maxSizes);
  }

  /**
   * A point in the sequence of ended transfers. Take it before reading
   * fresh sizes from the branch, and pass it to {@link rebase} with them.
   */
  mark(): number {
    return this.#seq;
  }

  /**
   * Takes fresh sizes from the branch, computed after `mark` was taken.
   * Transfers committed before the mark are in them. Of those committed
   * since, stores are still counted (they might not be in the branch yet:
   * counting one twice only makes a repository seem fuller) and removes
   * are dropped (for the same reason, the other way round).
   */
  rebase(sizes: ReadonlyMap<string, bigint>, mark: number): void {
    this.#base = new Map(sizes);
    this.#settled = this.#settled.filter((s) => s.seq > mark && s.delta > 0n);
  }

  /**
   * Reads fresh sizes with `read` and takes them with maxsize.log's
   * `maxSizes`, the transfers that end meanwhile counted once.
   */
  async refreshWith(
    read: () => Promise<ReadonlyMap<string, bigint>>,
    maxSizes: ReadonlyMap<string, bigint>,
  ): Promise<void> {
    const mark = this.mark();
    const sizes = await read();
    this.rebase(sizes, mark);
    this.setMaxSizes(maxSizes);
  }

  /** Sets what other processes' stores add to sizes, per repository. */
  protected setOthers(others: ReadonlyMap<string, bigint>): void {
    this.#others = others;
  }

  /** The size of a repository now: known size, ended transfers, and stores in flight. */
  size(uuid: string): bigint {
    let n =
      (this.#base.get(uuid) ?? 0n) +
      (this.#storing.get(uuid) ?? 0n) +
      (this.#others.get(uuid) ?? 0n);
    for (const s of this.#settled) if (s.uuid === uuid) n += s.delta;
    return n;
  }

  /** The repository's maximum size, or null when none is recorded. */
  maxSize(uuid: string): bigint | null {
    return this.#maxSizes.get(uuid) ?? null;
  }

  /** Bytes still free below the maximum size (never negative), or null when unlimited. */
  freeSpace(uuid: string): bigint | null {
    const max = this.maxSize(uuid);
    if (max === null) return null;
    const free = max - this.size(uuid);
    return free > 0n ? free : 0n;
  }

  /** Bytes being stored into and removed from a repository right now. */
  inFlight(uuid: string): { storing: bigint; removing: bigint } {
    return { storing: this.#storing.get(uuid) ?? 0n, removing: this.#removing.get(uuid) ?? 0n };
  }

  /**
   * Reserves room for storing `bytes` into a repository: null, reserving
   * nothing, when that would take it past its maximum size.
   */
  reserve(uuid: string, bytes: bigint): Reservation | null {
    if (bytes < 0n) throw new RangeError("a reservation cannot be negative");
    const max = this.maxSize(uuid);
    if (max !== null && !repoHasSpace(bytes, false, this.size(uuid), max)) return null;
    add(this.#storing, uuid, bytes);
    return this.#reservation(uuid, bytes, "store", this.#storing, bytes);
  }

  /**
   * Room for `bytes` in each of `uuids`, held in one step (null where it
   * does not fit). In one process this is {@link reserve} for each;
   * SharedLiveSizes makes it one step for every process on the machine.
   */
  async reserveAll(
    uuids: readonly string[],
    bytes: bigint,
    _key = "",
  ): Promise<(Reservation | null)[]> {
    return uuids.map((u) => this.reserve(u, bytes));
  }

  /** Notes a remove in flight; it frees its bytes only when committed. */
  beginRemove(uuid: string, bytes: bigint): Reservation {
    if (bytes < 0n) throw new RangeError("a reservation cannot be negative");
    add(this.#removing, uuid, bytes);
    return this.#reservation(uuid, bytes, "remove", this.#removing, -bytes);
  }

  #reservation(
    uuid: string,
    bytes: bigint,
    kind: "store" | "remove",
    pending: Map<string, bigint>,
    delta: bigint,
  ): Reservation {
    let ended = false;
    const end = (committed: boolean) => {
      if (ended) return;
      ended = true;
      add(pending, uuid, -bytes);
      if (committed && delta !== 0n) {
        this.#seq += 1;
        this.#settled.push({ seq: this.#seq, uuid, delta });
      }
    };
    return { uuid, bytes, kind, commit: () => end(true), release: () => end(false) };
  }
}

function add(m: Map<string, bigint>, uuid: string, n: bigint): void {
  const v = (m.get(uuid) ?? 0n) + n;
  if (v === 0n) m.delete(uuid);
  else m.set(uuid, v);
}
