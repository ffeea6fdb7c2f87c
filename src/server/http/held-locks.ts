/**
 * Content locks handed to p2phttp clients by lockcontent, by lock id. A
 * lock lasts `retentionMs` unless keeplocked takes it over (then until
 * that request unlocks or ends), and each client address holds at most
 * `maxPerClient` of them, so made-up or abandoned locks cannot pile up.
 */
import { genUuid } from "../../keys/index.js";
import type { ContentLock } from "../../peers/index.js";
import { ClientCounts } from "./client-limits.js";

export interface HeldLock {
  readonly id: string;
  readonly lock: ContentLock;
  /** The repository the lock was taken in (keeplocked must name the same). */
  readonly uuid: string;
  readonly client: string;
  timer: NodeJS.Timeout | null;
}

export class HeldLocks {
  readonly #locks = new Map<string, HeldLock>();
  readonly #perClient: ClientCounts;
  #kept = 0;

  readonly #retentionMs: number;
  constructor(retentionMs: number, maxPerClient: number) {
    this.#retentionMs = retentionMs;
    this.#perClient = new ClientCounts(maxPerClient);
  }

  /** Locks held now, and how many of them keeplocked requests keep. */
  counts(): { held: number; kept: number } {
    return { held: this.#locks.size, kept: this.#kept };
  }

  /** Hold `lock` for `client`; its id, or null (lock released) at the client's cap. */
  async add(lock: ContentLock, uuid: string, client: string): Promise<string | null> {
    if (!this.#perClient.enter(client)) {
      await lock.release();
      return null;
    }
    const entry: HeldLock = { id: genUuid(), lock, uuid, client, timer: null };
    // Without keeplocked the lock ends when it expires.
    entry.timer = setTimeout(() => void this.release(entry), this.#retentionMs);
    entry.timer.unref();
    this.#locks.set(entry.id, entry);
    return entry.id;
  }

  /**
   * keeplocked: the lock `id` of repository `uuid`, no longer expiring
   * (as git-annex's keepingLocked), or undefined for an unknown id.
   */
  keep(id: string, uuid: string): HeldLock | undefined {
    const entry = this.#locks.get(id);
    if (!entry || entry.uuid !== uuid || entry.timer === null) return undefined;
    clearTimeout(entry.timer);
    entry.timer = null;
    entry.lock.keep();
    this.#kept++;
    return entry;
  }

  /** Release the lock `id`, if it is still held. */
  async releaseId(id: string): Promise<void> {
    const entry = this.#locks.get(id);
    if (entry) await this.release(entry);
  }

  /** Release a lock once (later calls do nothing). */
  async release(entry: HeldLock): Promise<void> {
    if (this.#locks.get(entry.id) !== entry) return;
    this.#locks.delete(entry.id);
    this.#perClient.leave(entry.client);
    if (entry.timer === null) this.#kept--;
    else clearTimeout(entry.timer);
    await entry.lock.release();
  }

  /** Release every lock (server shutdown). */
  async close(): Promise<void> {
    for (const entry of [...this.#locks.values()]) await this.release(entry);
  }
}
