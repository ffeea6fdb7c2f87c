/**
 * The one Peer over a special remote's storage (directory, S3, ...):
 * the P2P operations as git-annex's proxy answers them for a special
 * remote (Annex/Proxy.hs proxySpecialRemote), streamed end to end where
 * stock goes through a temp file, and never storing unverified content.
 *
 * Where annexgate differs from stock, on purpose:
 * - store: stock receives the whole upload into `.git/annex/othertmp`,
 *   checks it, then stores it; here the bytes are hashed as they stream
 *   into the storage's staged object, which is published only when the
 *   whole content matched the key, and discarded otherwise.
 * - putOffset: stock always answers offset 0 (never ALREADY-HAVE, never a
 *   resume); here present content is ALREADY-HAVE, and an interrupted
 *   store resumes from what the storage kept (hashed again first).
 * - retrieve: stock fetches the whole object into a temp file, then sends
 *   from the offset; here it streams from the offset.
 * - remove with `before` (REMOVE-BEFORE) and getTimestamp: stock's special
 *   remote proxy does not handle these messages at all (it ends the
 *   session with "protocol error"); here the gateway's monotonic clock is
 *   this peer's clock, and a removal goes ahead only before `before`.
 * Same as stock: lockContent is unsupported (special remotes cannot lock
 * content), and DATA-PRESENT is a presence check.
 */
import {
  formatKey,
  type Key,
  type ReceiveVerification,
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
import { ByteCounter, endedCleanly } from "../streams.js";
import { copyIntoStaged } from "./staged-copy.js";
import type { SpecialStorage, StagedObject } from "./storage.js";

export interface SpecialPeerOptions {
  /** The special remote's UUID. */
  readonly uuid: string;
  readonly storage: SpecialStorage;
}

/** The answers and settings ChunkedPeer shares with this Peer. */
export const NO_UUIDS: readonly string[] = [];
export const STORED: StoreResult = { stored: true, plusUuids: NO_UUIDS };
export const NOT_STORED: StoreResult = { stored: false, plusUuids: NO_UUIDS };
export const NO_VERIFICATION: ReceiveVerification = { kind: "none" };

/**
 * How long a store waits for another store of the same key in this
 * process (they share the staged object): a second one is refused, as
 * LocalPeer refuses it, rather than queued behind a long upload.
 */
export const STORE_WAIT_MS = 5000;
export const BUSY = Symbol("busy");

export class SpecialPeer implements Peer {
  readonly uuid: string;
  readonly #storage: SpecialStorage;
  readonly #turns = new KeyedMutex();

  constructor(opts: SpecialPeerOptions) {
    this.uuid = opts.uuid;
    this.#storage = opts.storage;
  }

  async checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    return { present: await this.#storage.has(formatKey(key), ctx?.signal) };
  }

  /** Special remotes cannot lock content (stock answers FAILURE to LOCKCONTENT). */
  async lockContent(): Promise<LockResult> {
    return LOCK_UNSUPPORTED;
  }

  async remove(key: Key, opts: { before?: number } = {}, ctx?: PeerContext): Promise<RemoveResult> {
    if (opts.before !== undefined && monotonicSeconds() >= opts.before) {
      return { removed: false, plusUuids: NO_UUIDS };
    }
    // An absent object is removed already (stock's removeKey succeeds too).
    await this.#storage.remove(formatKey(key), ctx?.signal);
    return { removed: true, plusUuids: NO_UUIDS };
  }

  async getTimestamp(): Promise<number> {
    return monotonicSeconds();
  }

  async putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    const name = formatKey(key);
    if (await this.#storage.has(name, ctx?.signal))
      return { alreadyHave: true, plusUuids: NO_UUIDS };
    return { alreadyHave: false, offset: await this.#storage.stagedLength(name) };
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    const name = formatKey(req.key);
    const r = await this.#turns.runWithin(name, STORE_WAIT_MS, BUSY, () =>
      this.#storeInTurn(req, name, ctx?.signal),
    );
    if (r === BUSY) {
      req.data.resume();
      return NOT_STORED;
    }
    return r;
  }

  async #storeInTurn(req: StoreRequest, name: string, signal?: AbortSignal): Promise<StoreResult> {
    // A sender that checks the content itself covers it only when all of
    // it comes in this store; a resumed one is hashed here.
    const senderChecks = req.checkedBySender !== undefined && req.offset === 0;
    const verification = senderChecks ? NO_VERIFICATION : receiveVerification(req.key);
    if (verification.kind === "refuse" || (req.offset > 0 && !(await this.#canResume(name, req)))) {
      req.data.resume();
      return NOT_STORED;
    }
    if (await this.#storage.has(name, signal)) {
      // Already there: drain what the sender sends, as the protocol expects.
      req.data.resume();
      return STORED;
    }
    const staged = await this.#storage.stage(name, {
      ...(req.offset > 0 ? { resumeFrom: req.offset } : {}),
      ...(signal ? { signal } : {}),
    });
    try {
      return await this.#fill(staged, req, verification, senderChecks, signal);
    } catch (e) {
      // A failure of the storage (or of the sender's own check): nothing
      // becomes visible; what was written is kept for a resume.
      await staged.discard({ keep: true }).catch(() => undefined);
      throw e;
    }
  }

  /** Whether the storage kept at least `req.offset` bytes of an earlier store. */
  async #canResume(name: string, req: StoreRequest): Promise<boolean> {
    return req.offset <= (await this.#storage.stagedLength(name));
  }

  /** Stream the upload into `staged`; publish it only when it is the key's content. */
  async #fill(
    staged: StagedObject,
    req: StoreRequest,
    verification: ReceiveVerification,
    senderChecks: boolean,
    signal?: AbortSignal,
  ): Promise<StoreResult> {
    const verifier = verification.kind === "hash" ? verification.create() : null;
    if (verifier && req.offset > 0) {
      // Resuming: the digest must cover the bytes the storage kept.
      if (!staged.readKept) {
        req.data.resume();
        await staged.discard();
        return NOT_STORED;
      }
      for await (const chunk of staged.readKept(signal) as AsyncIterable<Buffer>) {
        verifier.update(chunk);
      }
    }
    const t = await copyIntoStaged(staged.sink, req.data, req.length, verifier, signal);
    if (t.tooLong) {
      await staged.discard();
      return NOT_STORED;
    }
    if (t.aborted || t.received < req.length) {
      // Keep what arrived: the sender can resume from it (putOffset).
      await staged.discard({ keep: true });
      return NOT_STORED;
    }
    const size = req.key.size;
    if (
      (size !== undefined && req.offset + req.length !== size) ||
      (verifier !== null && !verifier.matches()) ||
      (senderChecks && !(await req.checkedBySender))
    ) {
      await staged.discard();
      return NOT_STORED;
    }
    await staged.publish();
    return STORED;
  }

  /** DATA-PRESENT: stored when the storage has the content, as stock checks. */
  async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    return (await this.#storage.has(formatKey(key), ctx?.signal)) ? STORED : NOT_STORED;
  }

  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    const stored = await this.#storage.read(formatKey(key), offset, ctx?.signal);
    if (stored === null) return null;
    // Valid when exactly the promised bytes came through: a storage that
    // fails mid-read (a connection to S3 dropped) is not the key's content.
    const counter = new ByteCounter();
    const ended = endedCleanly(counter);
    stored.data.on("error", (e) => counter.destroy(e));
    counter.on("close", () => {
      if (!stored.data.destroyed) stored.data.destroy();
    });
    stored.data.pipe(counter);
    return {
      length: stored.length,
      data: counter,
      valid: ended.then((ok) => ok && counter.count === stored.length),
    };
  }

  async close(): Promise<void> {
    await this.#storage.close();
  }
}
