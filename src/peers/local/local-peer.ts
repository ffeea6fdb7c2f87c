/**
 * The local repository as a Peer: content in the repository's object store,
 * locks held in this process, and every store or removal recorded in the
 * repository's own location log (through `recordLocation`).
 */

import { formatKey, type Key } from "../../keys/index.js";
import type {
  ContentLocks,
  HeldLock,
  ObjectStore,
  SharedContentLock,
} from "../../objects/index.js";
import {
  LOCK_ABSENT,
  type LockResult,
  type Peer,
  type PeerContext,
  type PresenceResult,
  type PutOffsetResult,
  type RemoveResult,
  type RetrieveResult,
  type StoreRequest,
  type StoreResult,
} from "../peer.js";

/** Seconds on CLOCK_MONOTONIC, the clock git-annex uses for REMOVE-BEFORE. */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint() / 1_000_000_000n);
}

export interface LocalPeerOptions {
  readonly uuid: string;
  readonly store: ObjectStore;
  readonly locks: ContentLocks;
  /** Records that this repository now has (or no longer has) a key. */
  readonly recordLocation: (key: Key, present: boolean) => Promise<void>;
}

const NO_UUIDS: readonly string[] = [];

export class LocalPeer implements Peer {
  readonly uuid: string;
  readonly #objects: ObjectStore;
  readonly #locks: ContentLocks;
  readonly #recordLocation: (key: Key, present: boolean) => Promise<void>;

  constructor(opts: LocalPeerOptions) {
    this.uuid = opts.uuid;
    this.#objects = opts.store;
    this.#locks = opts.locks;
    this.#recordLocation = opts.recordLocation;
  }

  async checkPresent(key: Key): Promise<PresenceResult> {
    return { present: await this.#objects.has(key) };
  }

  async lockContent(key: Key): Promise<LockResult> {
    if (!(await this.#objects.has(key))) return LOCK_ABSENT;
    const held: HeldLock | null = this.#locks.lock(formatKey(key));
    if (!held) return LOCK_ABSENT;
    // Other processes (git-annex's, and annexgate's, one per ssh login) see
    // the lock through the content's lock file.
    let file: SharedContentLock | null;
    try {
      file = await this.#objects.lockShared(key);
    } catch (e) {
      held.release();
      throw e;
    }
    // Re-check: the content may have been removed before the lock was taken.
    if (!file || !(await this.#objects.has(key))) {
      await file?.release();
      held.release();
      return LOCK_ABSENT;
    }
    const shared = file;
    const lock = {
      keep: () => held.pin(),
      release: async () => {
        held.release();
        await shared.release();
      },
    };
    return { kind: "locked", lock };
  }

  async remove(key: Key, opts: { before?: number } = {}): Promise<RemoveResult> {
    const name = formatKey(key);
    if (!(await this.#objects.has(key))) return { removed: true, plusUuids: NO_UUIDS };
    const removeNow = async () => {
      if (opts.before !== undefined && monotonicSeconds() >= opts.before) return false;
      // Refused while another process (stock git-annex too) holds a lock.
      if (!(await this.#objects.remove(key))) return false;
      await this.#recordLocation(key, false);
      return true;
    };
    const removed = await this.#locks.whileRemoving(name, removeNow);
    return { removed: removed === true, plusUuids: NO_UUIDS };
  }

  async getTimestamp(): Promise<number> {
    return monotonicSeconds();
  }

  async putOffset(key: Key): Promise<PutOffsetResult> {
    if (await this.#objects.has(key)) return { alreadyHave: true, plusUuids: NO_UUIDS };
    return { alreadyHave: false, offset: await this.#objects.tmpSize(key) };
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    const result = await this.#objects.receive(
      req.key,
      req.offset,
      req.length,
      req.data,
      ctx?.signal,
      req.checkedBySender,
    );
    if (result.ok) await this.#recordLocation(req.key, true);
    return { stored: result.ok, plusUuids: NO_UUIDS };
  }

  /**
   * DATA-PRESENT: the content was put into the repository by other means;
   * stored when it is there, as git-annex checks (a temp file is not
   * content: it is neither verified nor adopted here).
   */
  async storePresent(key: Key): Promise<StoreResult> {
    const ok = await this.#objects.has(key);
    if (ok) await this.#recordLocation(key, true);
    return { stored: ok, plusUuids: NO_UUIDS };
  }

  async retrieve(key: Key, offset: number): Promise<RetrieveResult | null> {
    const opened = await this.#objects.read(key, offset);
    if (!opened) return null;
    // Objects are frozen read-only, so what is read is the key's content.
    return {
      length: Math.max(0, opened.size - offset),
      data: opened.stream,
      valid: Promise.resolve(true),
    };
  }

  async close(): Promise<void> {}
}
