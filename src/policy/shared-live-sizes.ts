/**
 * Live sizes that every annexgate process serving the repository sees: a
 * store into a repository with a maximum size is held in this process's
 * shared record (shared-live-records.ts), and room is checked against
 * what all processes hold, under one lock. Repositories without a maximum
 * size cannot be overfilled, so their stores stay in process, and a
 * process that knows no maximum size at all never touches a file.
 */
import type { FcntlLocks } from "../locks/index.js";
import { errorText, type Logger } from "../util/index.js";
import { LiveSizes, type Reservation } from "./live-sizes.js";
import { SharedLiveRecords, type SharedStore } from "./shared-live-records.js";

export interface SharedLiveSizesOptions {
  /** The folder of the shared records (`.git/annex/annexgate/live`). */
  readonly dir: string;
  readonly locks: FcntlLocks;
  readonly lockWaitMs?: number;
  readonly logger?: Logger;
}

export class SharedLiveSizes extends LiveSizes {
  #records: SharedLiveRecords | null = null;
  #opening: Promise<SharedLiveRecords | null> | null = null;

  readonly #opts: SharedLiveSizesOptions;

  constructor(opts: SharedLiveSizesOptions) {
    super();
    this.#opts = opts;
  }

  /**
   * Joins the other processes first (when any maximum size is known), so
   * that none of them forgets a store these sizes might not include yet;
   * then takes the shared mark before reading.
   */
  override async refreshWith(
    read: () => Promise<ReadonlyMap<string, bigint>>,
    maxSizes: ReadonlyMap<string, bigint>,
  ): Promise<void> {
    const records = maxSizes.size > 0 ? await this.#join() : this.#records;
    const sharedMark = records === null ? null : await records.counter();
    await super.refreshWith(read, maxSizes);
    if (records !== null && sharedMark !== null) await records.publishMark(sharedMark);
  }

  override async reserveAll(
    uuids: readonly string[],
    bytes: bigint,
    key = "",
  ): Promise<(Reservation | null)[]> {
    const records = this.#records;
    if (records === null || uuids.every((u) => this.maxSize(u) === null)) {
      return super.reserveAll(uuids, bytes, key);
    }
    let held: (Reservation | null)[] = [];
    try {
      return await records.exclusive((others) => {
        this.setOthers(others);
        held = uuids.map((uuid) => {
          const r = this.reserve(uuid, bytes);
          if (r === null || this.maxSize(uuid) === null) return r;
          return this.#shared(r, records, records.add({ uuid, key, bytes }));
        });
        return held;
      });
    } catch (e) {
      // Held here but perhaps not written for the others: given back.
      for (const r of held) r?.release();
      throw e;
    }
  }

  /** Resolves once what this process wrote for the others so far is written. */
  async idle(): Promise<void> {
    await this.#records?.idle();
  }

  /** Leaves the other processes (see SharedLiveRecords.close). */
  async close(): Promise<void> {
    const records = await (this.#opening ?? Promise.resolve(this.#records));
    this.#records = null;
    await records?.close();
  }

  /** A reservation whose end is also written for the other processes. */
  #shared(r: Reservation, records: SharedLiveRecords, store: SharedStore): Reservation {
    const note = (what: string) => (e: unknown) =>
      this.#opts.logger?.warn(
        { err: errorText(e) },
        `live sizes: recording a store ${what} for other processes failed`,
      );
    return {
      uuid: r.uuid,
      bytes: r.bytes,
      kind: r.kind,
      commit: () => {
        r.commit();
        records.ended(store).catch(note("ended"));
      },
      release: () => {
        r.release();
        records.released(store).catch(note("released"));
      },
    };
  }

  /**
   * The shared records, opened on first need. When they cannot be (say,
   * a repository this user may not write), sizes stay in process: logged,
   * and retried at the next refresh.
   */
  async #join(): Promise<SharedLiveRecords | null> {
    if (this.#records !== null) return this.#records;
    this.#opening ??= SharedLiveRecords.open(this.#opts.dir, {
      locks: this.#opts.locks,
      ...(this.#opts.lockWaitMs !== undefined ? { lockWaitMs: this.#opts.lockWaitMs } : {}),
    })
      .then((r) => {
        this.#records = r;
        return r;
      })
      .catch((e) => {
        this.#opts.logger?.warn(
          { err: errorText(e) },
          "live sizes are not shared with other processes",
        );
        return null;
      })
      .finally(() => {
        this.#opening = null;
      });
    return this.#opening;
  }
}
