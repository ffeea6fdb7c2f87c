/**
 * A special remote's Peer with git-annex's chunking (Remote/Helper/Chunked.hs,
 * `chunk=`): content of a stable key is stored as chunk keys
 * (`…-S<size>-C<n>--…`) of the configured size, and the chunk log on the
 * gateway's branch says which chunk lists a remote holds. Whatever the
 * configuration, a key may be on the remote whole or in chunks of any
 * logged size, so every operation looks where git-annex looks:
 * - chunked remote: the logged chunk lists, then the whole object, then
 *   the chunk list the configured size would give (speculative: a lost
 *   chunk log entry, which is written again when that list is found);
 * - unchunked remote: the whole object first, then the logged lists.
 * The whole object is the plain SpecialPeer's, which also stores
 * unstable keys (URL…), which git-annex never chunks.
 *
 * Nothing unverified stays: the stream is hashed as it is cut into
 * chunks; every chunk but the last is published when full (as git-annex
 * stores chunk by chunk, and so that a large upload needs no staging
 * room for all of it), the last only once the whole content matched its
 * key, and the chunk log entry is written after that. So a complete chunk
 * list exists only for verified content. Content that does not match has
 * every chunk of its list removed; a store that is cut off (the sender
 * went away, the storage failed) removes the chunks it wrote, since stock
 * git-annex resuming a store into the same remote would trust them
 * unread. A store resumes at the first missing chunk (putOffset) only
 * over chunks someone else left (stock's own interrupted store), and
 * hashes them again, read back from the storage, before it trusts the
 * resumed content.
 */
import {
  chunkCount,
  chunkKey,
  formatKey,
  isStableKey,
  type Key,
  receiveVerification,
} from "../../keys/index.js";
import { KeyedMutex } from "../../util/index.js";
import { monotonicSeconds } from "../local/local-peer.js";
import {
  LOCK_UNSUPPORTED,
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
import { copyIntoChunks } from "./chunk-copy.js";
import type { ChunkListing, SpecialChunkLog } from "./chunk-log.js";
import { chunkLength, retrieveChunks } from "./chunk-read.js";
import {
  BUSY,
  NO_UUIDS,
  NO_VERIFICATION,
  NOT_STORED,
  type SpecialPeer,
  STORE_WAIT_MS,
  STORED,
} from "./special-peer.js";
import type { SpecialStorage } from "./storage.js";

export interface ChunkedPeerOptions {
  readonly uuid: string;
  readonly storage: SpecialStorage;
  /** The plain Peer over the same storage, for whole objects. */
  readonly whole: SpecialPeer;
  /** The configured chunk size (`chunk=`), or null for an unchunked remote. */
  readonly chunkSize: number | null;
  readonly chunkLog: SpecialChunkLog;
}

/** Where a key may be on the remote: whole, or a chunk list (`speculative` when not logged). */
type Place =
  | { readonly kind: "whole" }
  | ({ readonly kind: "chunks"; readonly speculative: boolean } & ChunkListing);

export class ChunkedPeer implements Peer {
  readonly uuid: string;
  readonly #o: ChunkedPeerOptions;
  readonly #turns = new KeyedMutex();

  constructor(opts: ChunkedPeerOptions) {
    this.uuid = opts.uuid;
    this.#o = opts;
  }

  /** Chunked.hs chunkKeys: every place `key` may be, most likely first. */
  async #places(key: Key): Promise<Place[]> {
    const logged = await this.#o.chunkLog.chunkListings(this.uuid, key);
    const lists: Place[] = logged.map((l) => ({ kind: "chunks", speculative: false, ...l }));
    const cs = this.#o.chunkSize;
    if (cs === null) return [{ kind: "whole" }, ...lists];
    lists.push({ kind: "whole" });
    if (key.size !== undefined) {
      const count = chunkCount(key.size, cs);
      if (!logged.some((l) => l.chunkSize === cs && l.count === count)) {
        lists.push({ kind: "chunks", speculative: true, chunkSize: cs, count });
      }
    }
    return lists;
  }

  #name(key: Key, chunkSize: number, i: number): string {
    return formatKey(chunkKey(key, chunkSize, i));
  }

  async #hasAll(key: Key, list: ChunkListing, signal?: AbortSignal): Promise<boolean> {
    for (let i = 1; i <= list.count; i++) {
      if (!(await this.#o.storage.has(this.#name(key, list.chunkSize, i), signal))) return false;
    }
    return true;
  }

  /**
   * Present when the whole object or every chunk of one list is there
   * (Chunked.hs checkPresentChunks); a speculative list found whole is
   * logged. A place that cannot be checked fails the check only when no
   * later place has the key.
   */
  async checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    let failure: unknown = null;
    for (const place of await this.#places(key)) {
      try {
        if (place.kind === "whole") {
          if ((await this.#o.whole.checkPresent(key, ctx)).present) return { present: true };
        } else if (await this.#hasAll(key, place, ctx?.signal)) {
          if (place.speculative) await this.#record(key, place.chunkSize, place.count);
          return { present: true };
        }
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== null) throw failure;
    return { present: false };
  }

  async lockContent(): Promise<LockResult> {
    return LOCK_UNSUPPORTED;
  }

  /**
   * Removes the whole object and every chunk of every list, then logs
   * each list's chunk size as removed (Chunked.hs removeChunks).
   */
  async remove(key: Key, opts: { before?: number } = {}, ctx?: PeerContext): Promise<RemoveResult> {
    if (opts.before !== undefined && monotonicSeconds() >= opts.before) {
      return { removed: false, plusUuids: NO_UUIDS };
    }
    const places = await this.#places(key);
    const sizes = new Set<number>();
    for (const place of places) {
      if (place.kind === "whole") {
        await this.#o.whole.remove(key, {}, ctx);
        continue;
      }
      await this.#removeChunks(key, place, 1, ctx?.signal);
      sizes.add(place.chunkSize);
    }
    for (const size of sizes) await this.#record(key, size, 0);
    return { removed: true, plusUuids: NO_UUIDS };
  }

  async #removeChunks(key: Key, list: ChunkListing, from: number, signal?: AbortSignal) {
    for (let i = from; i <= list.count; i++) {
      await this.#o.storage.remove(this.#name(key, list.chunkSize, i), signal);
    }
  }

  async #removeEach(key: Key, chunkSize: number, chunks: readonly number[]): Promise<void> {
    for (const i of chunks) await this.#o.storage.remove(this.#name(key, chunkSize, i));
  }

  async #record(key: Key, chunkSize: number, count: number): Promise<void> {
    await this.#o.chunkLog.recordChunks(this.uuid, key, chunkSize, count);
  }

  async getTimestamp(): Promise<number> {
    return monotonicSeconds();
  }

  /** The chunked store of `key`, or null when it is stored whole. */
  #chunking(key: Key): number | null {
    return this.#o.chunkSize !== null && isStableKey(key) ? this.#o.chunkSize : null;
  }

  /**
   * ALREADY-HAVE when present; else, for a chunked store, the offset just
   * past the chunks already there from the start (Chunked.hs seekResume:
   * content that fits one chunk never resumes).
   */
  async putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    if ((await this.checkPresent(key, ctx)).present) {
      return { alreadyHave: true, plusUuids: NO_UUIDS };
    }
    const cs = this.#chunking(key);
    if (cs === null) return this.#o.whole.putOffset(key, ctx);
    if (key.size === undefined || key.size <= cs) return { alreadyHave: false, offset: 0 };
    const count = chunkCount(key.size, cs);
    let have = 0;
    while (
      have < count - 1 &&
      (await this.#o.storage.has(this.#name(key, cs, have + 1), ctx?.signal))
    ) {
      have++;
    }
    return { alreadyHave: false, offset: have * cs };
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    const cs = this.#chunking(req.key);
    if (cs === null) return this.#o.whole.store(req, ctx);
    const r = await this.#turns.runWithin(formatKey(req.key), STORE_WAIT_MS, BUSY, () =>
      this.#storeChunked(req, cs, ctx),
    );
    if (r === BUSY) {
      req.data.resume();
      return NOT_STORED;
    }
    return r;
  }

  async #storeChunked(req: StoreRequest, cs: number, ctx?: PeerContext): Promise<StoreResult> {
    const signal = ctx?.signal;
    const senderChecks = req.checkedBySender !== undefined && req.offset === 0;
    const verification = senderChecks ? NO_VERIFICATION : receiveVerification(req.key);
    const total = req.offset + req.length;
    const refuse = () => {
      req.data.resume();
      return NOT_STORED;
    };
    if (verification.kind === "refuse") return refuse();
    if (req.key.size !== undefined && total !== req.key.size) return refuse();
    if ((await this.checkPresent(req.key, ctx)).present) {
      // Already there: drain what the sender sends, as the protocol expects.
      req.data.resume();
      return STORED;
    }
    const list: ChunkListing = { chunkSize: cs, count: chunkCount(total, cs) };
    const verifier = verification.kind === "hash" ? verification.create() : null;
    // A resumed store starts at a chunk boundary, after chunks that are there.
    if (req.offset > 0 && (req.offset % cs !== 0 || req.offset >= total)) return refuse();
    const first = req.offset / cs + 1;
    if (!(await this.#rehashKept(req.key, list, first, verifier, signal))) return refuse();
    // The chunks this store writes, removed again unless it succeeds.
    const written: number[] = [];
    const stage = (i: number) => {
      written.push(i);
      return this.#o.storage.stage(this.#name(req.key, cs, i), signal ? { signal } : {});
    };
    const removeWritten = () => this.#removeEach(req.key, cs, written);
    let t: Awaited<ReturnType<typeof copyIntoChunks>>;
    try {
      t = await copyIntoChunks(
        req.data,
        req.length,
        { first, count: list.count, chunkLength: (i) => chunkLength(total, cs, i), stage },
        verifier,
        signal,
      );
    } catch (e) {
      await removeWritten().catch(() => undefined);
      throw e;
    }
    const last = t.last;
    const matches =
      last !== null &&
      (verifier === null || verifier.matches()) &&
      (!senderChecks || (await req.checkedBySender));
    if (!matches) {
      await last?.discard();
      if (last === null && !t.tooLong) {
        // Cut off: what it published is not known to be the key's content.
        await removeWritten();
      } else {
        // Not the key's content: none of this list's chunks can be trusted.
        await this.#removeChunks(req.key, { ...list, count: list.count - 1 }, 1);
      }
      return NOT_STORED;
    }
    await last.publish();
    await this.#record(req.key, cs, list.count);
    return STORED;
  }

  /**
   * Feeds `verifier` the chunks before `first` (kept from an earlier
   * store), each read back from the storage; false when one is missing or
   * not a full chunk.
   */
  async #rehashKept(
    key: Key,
    list: ChunkListing,
    first: number,
    verifier: { update(b: Buffer): void } | null,
    signal?: AbortSignal,
  ): Promise<boolean> {
    for (let i = 1; i < first; i++) {
      const kept = await this.#o.storage.read(this.#name(key, list.chunkSize, i), 0, signal);
      if (kept === null) return false;
      if (kept.length !== list.chunkSize) {
        kept.data.destroy();
        return false;
      }
      let n = 0;
      for await (const b of kept.data as AsyncIterable<Buffer>) {
        verifier?.update(b);
        n += b.length;
      }
      if (n !== list.chunkSize) return false;
    }
    return true;
  }

  /** DATA-PRESENT: stored when the remote has the content, as stock checks. */
  async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    return (await this.checkPresent(key, ctx)).present ? STORED : NOT_STORED;
  }

  /** From the first place that has the part holding `offset` (Chunked.hs retrieveChunks). */
  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    let failure: unknown = null;
    for (const place of await this.#places(key)) {
      try {
        const r =
          place.kind === "whole"
            ? await this.#o.whole.retrieve(key, offset, ctx)
            : await retrieveChunks(this.#o.storage, key, place, offset, ctx?.signal);
        if (r !== null) return r;
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== null) throw failure;
    return null;
  }

  async close(): Promise<void> {
    await this.#o.whole.close();
  }
}
