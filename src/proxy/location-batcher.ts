/**
 * The gateway's location log, read and written through the branch layer's
 * API only. Writes are gathered per key: a cluster upload to
 * three nodes ends with three records for one key within a few
 * milliseconds; written one by one they are three journal changes of the
 * same file, one after the other. Records that arrive while a change of
 * that file is pending or running go into the next change together.
 */
import { type AnnexBranch, locationLogPath, locationsOf, setLocations } from "../branch/index.js";
import { type Key, parseUuid } from "../keys/index.js";

interface Batch {
  readonly key: Key;
  readonly changes: Map<string, boolean>;
  readonly waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export class LocationBatcher {
  readonly #pending = new Map<string, Batch>();
  /** The change of each location log under way, to queue the next one behind. */
  readonly #running = new Map<string, Promise<void>>();

  readonly #branch: AnnexBranch;
  constructor(branch: AnnexBranch) {
    this.#branch = branch;
  }

  /** The UUIDs the location log lists as having `key` (journal included). */
  async locations(key: Key): Promise<Set<string>> {
    return new Set(await locationsOf(this.#branch, key));
  }

  /** Resolves once the change is in the journal (visible to readers, committed soon). */
  record(key: Key, uuid: string, present: boolean): Promise<void> {
    // A bad UUID (say, in a misbehaving node's plus-UUIDs) fails alone,
    // not the records it would have been written with.
    try {
      parseUuid(uuid);
    } catch (e) {
      return Promise.reject(e);
    }
    const path = locationLogPath(key);
    let batch = this.#pending.get(path);
    if (batch === undefined) {
      batch = { key, changes: new Map(), waiters: [] };
      this.#pending.set(path, batch);
      this.#schedule(path);
    }
    batch.changes.set(uuid, present);
    const waiters = batch.waiters;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  #schedule(path: string): void {
    const before = this.#running.get(path) ?? Promise.resolve();
    const run = before
      // One turn of the event loop lets records that end together join.
      .then(() => new Promise<void>((r) => setImmediate(r)))
      .then(async () => {
        const batch = this.#pending.get(path);
        this.#pending.delete(path);
        if (batch === undefined) return;
        try {
          await setLocations(this.#branch, batch.key, batch.changes);
          for (const w of batch.waiters) w.resolve();
        } catch (e) {
          for (const w of batch.waiters) w.reject(e);
        }
      });
    this.#running.set(path, run);
    void run.finally(() => {
      if (this.#running.get(path) === run) this.#running.delete(path);
    });
  }
}
