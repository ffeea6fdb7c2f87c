/**
 * Stores in flight, shared between the annexgate processes serving one
 * repository (each ssh login is a process of its own), the way git-annex
 * shares its live size changes through its database
 * (Annex/RepoSize/LiveUpdate.hs). Under `.git/annex/annexgate/live/`:
 *
 * - `<id>.json`: one process's record: its stores in flight, its stores
 *   ended well (each stamped with a sequence number), and its mark, the
 *   sequence number read before it last read sizes from the branch;
 * - `<id>.lock`: fcntl-locked by that process for its whole life. fcntl
 *   locks die with their process, so a record whose lock can be taken
 *   belongs to a process that is gone (a PID could be reused; this cannot);
 * - `lock`: fcntl-locked around every check-and-reserve and every stamp,
 *   so two processes never both decide there is room;
 * - `counter`: the last sequence number given to an ended store.
 *
 * A store ending well is written to the journal first, then stamped: a
 * process whose mark is at least the stamp read sizes that include it, and
 * stops counting it. Stamped stores are kept until every live process's
 * mark has passed them; the stores in flight of a process that is gone
 * are dropped (its room comes back).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AnnexgateError } from "../errors.js";
import type { FcntlLock, FcntlLocks } from "../locks/index.js";

export class LiveSizesError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_LIVE_SIZES", message, data, cause);
  }
}

/** A store in flight: `bytes` going into repository `uuid`. */
export interface SharedStore {
  readonly uuid: string;
  readonly key: string;
  readonly bytes: bigint;
}

interface Stamped extends SharedStore {
  readonly seq: number;
}

interface RecordFile {
  readonly mark: number;
  readonly inFlight: readonly SharedStore[];
  readonly ended: readonly Stamped[];
}

export interface SharedLiveRecordsOptions {
  /** The process's fcntl locks (one helper per process: see objects/fcntl-locks.ts). */
  readonly locks: FcntlLocks;
  /** How long to wait for another process's check-and-reserve (ms, default 30000). */
  readonly lockWaitMs?: number;
}

/** What the other processes' records add to repository sizes, per repository. */
export type OthersBytes = ReadonlyMap<string, bigint>;

export class SharedLiveRecords {
  readonly #inFlight = new Set<SharedStore>();
  #ended: Stamped[] = [];
  /** The sequence number this process's sizes include (filters others' ended stores). */
  #mark = 0;
  /** The mark as last written to the record (what other processes go by). */
  #writtenMark = 0;
  #turns: Promise<unknown> = Promise.resolve();
  #saving: Promise<unknown> = Promise.resolve();
  #closed = false;

  readonly #own: FcntlLock;
  readonly #opts: SharedLiveRecordsOptions;

  private constructor(
    readonly dir: string,
    readonly id: string,
    own: FcntlLock,
    opts: SharedLiveRecordsOptions,
  ) {
    this.#own = own;
    this.#opts = opts;
  }

  /**
   * Joins the processes sharing `dir`: takes this process's lock, then,
   * under the global lock, writes its record with a mark no ended store
   * still needed could be older than.
   */
  static async open(dir: string, opts: SharedLiveRecordsOptions): Promise<SharedLiveRecords> {
    await mkdir(dir, { recursive: true });
    const id = `${process.pid}-${randomBytes(6).toString("hex")}`;
    const own = await opts.locks.tryLock(join(dir, `${id}.lock`), "exclusive");
    if (own === null) throw new LiveSizesError("cannot lock a fresh live record", { id });
    const records = new SharedLiveRecords(dir, id, own, opts);
    await records.#exclusiveTurn(async () => {
      records.#mark = await records.counter();
      await records.#save();
      await records.#scan(); // tidies records of processes that are gone
    });
    return records;
  }

  /** The last sequence number given out; take it before reading sizes from the branch. */
  async counter(): Promise<number> {
    const text = await readFile(join(this.dir, "counter"), "utf8").catch(() => "0");
    const n = Number(text.trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  /** Sizes read after `counter()` gave `mark` are in use: ended stores up to it are in them. */
  async publishMark(mark: number): Promise<void> {
    this.#mark = mark;
    await this.#save();
  }

  /**
   * Runs `decide` with what the other processes add to sizes, while no
   * other process can decide; stores it adds (with {@link add}) are written
   * to this process's record before any other process may look.
   */
  exclusive<T>(decide: (others: OthersBytes) => T): Promise<T> {
    return this.#exclusiveTurn(async () => {
      const result = decide(await this.#scan());
      await this.#save();
      return result;
    });
  }

  /** Notes a store in flight; call it inside {@link exclusive}. */
  add(store: SharedStore): SharedStore {
    this.#inFlight.add(store);
    return store;
  }

  /** The store ended well and its location change is in the journal: stamp it. */
  ended(store: SharedStore): Promise<void> {
    if (!this.#inFlight.has(store)) return Promise.resolve();
    return this.#exclusiveTurn(async () => {
      const seq = (await this.counter()) + 1;
      this.#inFlight.delete(store);
      this.#ended.push({ ...store, seq });
      // Either order is safe for a reader that takes no lock: a stamp not
      // yet in the counter, or a store still shown in flight, is counted.
      await Promise.all([
        this.#writeAtomically(join(this.dir, "counter"), `${seq}\n`),
        this.#save(),
      ]);
    });
  }

  /** The store failed or was abandoned: its room is given back. */
  released(store: SharedStore): Promise<void> {
    if (!this.#inFlight.delete(store)) return Promise.resolve();
    return this.#save();
  }

  /** Resolves once every stamp and record write asked for so far is done. */
  async idle(): Promise<void> {
    await this.#turns.catch(() => undefined);
    await this.#saving;
  }

  /**
   * Leaves: a record with ended stores others may still need stays for
   * them to tidy; otherwise the record goes. The lock is released either way.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Stamps under way are written first: others may need them.
    await this.#turns.catch(() => undefined);
    this.#closed = true;
    this.#inFlight.clear();
    await this.#saving;
    if (this.#ended.length === 0) {
      await rm(this.#recordPath(this.id), { force: true });
      await rm(join(this.dir, `${this.id}.lock`), { force: true });
    } else {
      await this.#save(true);
    }
    await this.#own.release();
  }

  /** One turn at a time in this process, and under the global lock against others. */
  #exclusiveTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turns.then(async () => {
      if (this.#closed) throw new LiveSizesError("live records are closed");
      const global = await this.#takeGlobalLock();
      try {
        return await fn();
      } finally {
        await global.release();
      }
    });
    this.#turns = run.catch(() => undefined);
    return run;
  }

  /**
   * The global lock is held for a few file operations at a time, so it is
   * polled (fcntl's waiting form would stall every other lock this
   * process's helper serves), with a bound.
   */
  async #takeGlobalLock(): Promise<FcntlLock> {
    const path = join(this.dir, "lock");
    const deadline = Date.now() + (this.#opts.lockWaitMs ?? 30_000);
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      const lock = await this.#opts.locks.tryLock(path, "exclusive");
      if (lock !== null) return lock;
      if (Date.now() > deadline) {
        throw new LiveSizesError("another annexgate process holds the live sizes lock too long");
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /**
   * Reads the other records (under the global lock): drops what processes
   * that are gone had in flight, drops ended stores every live process has
   * read, and sums what the rest adds to sizes this process has read.
   */
  async #scan(): Promise<OthersBytes> {
    const others = await this.#readOthers();
    let newestEnded = 0; // a loop, not Math.max(...): records may be long
    for (const r of [...others.values(), { ended: this.#ended }]) {
      for (const e of r.ended) newestEnded = Math.max(newestEnded, e.seq);
    }
    const alive = new Map<string, boolean>();
    await Promise.all(
      [...others].map(async ([id, r]) => {
        // A record that adds nothing and holds back no tidying need not be asked.
        const matters = r.inFlight.length > 0 || r.ended.length > 0 || r.mark < newestEnded;
        alive.set(id, matters ? await this.#isAlive(id) : true);
      }),
    );
    let oldestMark = Math.min(this.#mark, this.#writtenMark);
    for (const [id, r] of others) if (alive.get(id)) oldestMark = Math.min(oldestMark, r.mark);
    this.#ended = this.#ended.filter((e) => e.seq > oldestMark);
    const bytes = new Map<string, bigint>();
    const count = (s: SharedStore) => bytes.set(s.uuid, (bytes.get(s.uuid) ?? 0n) + s.bytes);
    for (const [id, r] of others) {
      const live = alive.get(id) === true;
      if (live) r.inFlight.forEach(count);
      for (const e of r.ended) if (e.seq > this.#mark) count(e);
      if (!live) await this.#tidyGone(id, r, oldestMark);
    }
    return bytes;
  }

  async #readOthers(): Promise<Map<string, RecordFile>> {
    const ids = (await readdir(this.dir))
      .filter((name) => name.endsWith(".json"))
      .map((name) => name.slice(0, -".json".length))
      .filter((id) => id !== this.id);
    const texts = await Promise.all(
      ids.map((id) => readFile(this.#recordPath(id), "utf8").catch(() => null)),
    );
    const out = new Map<string, RecordFile>();
    ids.forEach((id, i) => {
      const text = texts[i];
      const record = typeof text === "string" ? parseRecord(text) : null;
      if (record !== null) out.set(id, record);
    });
    return out;
  }

  /** Whether the process of record `id` still holds its lock. */
  async #isAlive(id: string): Promise<boolean> {
    // Never this process's own lock file: a second descriptor on it in
    // this process's helper would drop this process's lock on closing.
    // A lock that cannot be tried (say, another user's file) counts as
    // alive: its stores stay counted, erring on the side of a fuller node.
    const lock = await this.#opts.locks
      .tryLock(join(this.dir, `${id}.lock`), "exclusive")
      .catch(() => null);
    if (lock === null) return true;
    await lock.release();
    return false;
  }

  /** A gone process's record keeps only ended stores a live process still needs. */
  async #tidyGone(id: string, r: RecordFile, oldestMark: number): Promise<void> {
    const ended = r.ended.filter((e) => e.seq > oldestMark);
    if (ended.length === 0) {
      await rm(this.#recordPath(id), { force: true });
      await rm(join(this.dir, `${id}.lock`), { force: true });
    } else if (ended.length < r.ended.length || r.inFlight.length > 0) {
      await this.#writeAtomically(
        this.#recordPath(id),
        formatRecord({ mark: r.mark, inFlight: [], ended }),
      );
    }
  }

  /** Writes this process's record as it is now, one write after the other. */
  #save(evenClosed = false): Promise<void> {
    const run = this.#saving.then(async () => {
      if (this.#closed && !evenClosed) return;
      const mark = this.#mark;
      const text = formatRecord({ mark, inFlight: [...this.#inFlight], ended: this.#ended });
      await this.#writeAtomically(this.#recordPath(this.id), text);
      this.#writtenMark = mark;
    });
    this.#saving = run.catch(() => undefined);
    return run;
  }

  async #writeAtomically(path: string, text: string): Promise<void> {
    const tmp = `${path}.${this.id}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  }

  #recordPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}

function formatRecord(r: RecordFile): string {
  const store = (s: SharedStore) => ({ uuid: s.uuid, key: s.key, bytes: s.bytes.toString() });
  return `${JSON.stringify({
    mark: r.mark,
    inFlight: r.inFlight.map(store),
    ended: r.ended.map((e) => ({ ...store(e), seq: e.seq })),
  })}\n`;
}

/** A record as written by {@link formatRecord}; null for anything else. */
export function parseRecord(text: string): RecordFile | null {
  try {
    const j = JSON.parse(text) as { mark?: unknown; inFlight?: unknown; ended?: unknown };
    if (!isCount(j.mark) || !Array.isArray(j.inFlight) || !Array.isArray(j.ended)) return null;
    const inFlight = j.inFlight.map(parseStore);
    const ended = j.ended.map((e: { seq?: unknown }) => {
      const s = parseStore(e);
      return s !== null && isCount(e.seq) ? { ...s, seq: e.seq } : null;
    });
    if (inFlight.includes(null) || ended.includes(null)) return null;
    return { mark: j.mark, inFlight: inFlight as SharedStore[], ended: ended as Stamped[] };
  } catch {
    return null;
  }
}

function isCount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

function parseStore(v: unknown): SharedStore | null {
  const s = v as { uuid?: unknown; key?: unknown; bytes?: unknown } | null;
  if (s === null || typeof s !== "object") return null;
  if (typeof s.uuid !== "string" || typeof s.key !== "string" || typeof s.bytes !== "string") {
    return null;
  }
  if (!/^\d{1,30}$/.test(s.bytes)) return null;
  return { uuid: s.uuid, key: s.key, bytes: BigInt(s.bytes) };
}
