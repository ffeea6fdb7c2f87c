/**
 * A repository reached over git-annex's P2P line protocol on a child
 * process's stdio: `ssh HOST git-annex-shell p2pstdio DIR CLIENTUUID --uuid
 * UUID`, a local `git-annex-shell p2pstdio`, or annexgate's own shell.
 *
 * The protocol is strictly sequential, so each operation has a connection
 * to itself, taken from a bounded pool (see connection.ts); a held content
 * lock keeps its connection until released. The message exchanges are
 * git-annex's client side (P2P/Protocol.hs): put, getPutOffset, get,
 * remove / removeBefore, lockContentWhile, checkPresent, getTimestamp.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { formatKey, type Key } from "../../keys/index.js";
import { MAX_PROTOCOL_VERSION, type ProtocolVersion } from "../../protocol/index.js";
import { errorText, type Logger } from "../../util/index.js";
import {
  type ContentLock,
  DEFAULT_STALL_TIMEOUT_MS,
  LOCK_ABSENT,
  type LockResult,
  type Peer,
  type PeerContext,
  PeerError,
  PeerUnreachableError,
  type PresenceResult,
  type PutOffsetResult,
  type RemoveResult,
  type RetrieveResult,
  type StoreRequest,
  type StoreResult,
} from "../peer.js";
import { ByteCounter, ExactLength } from "../streams.js";
import {
  type Connection,
  type ConnectionKind,
  ConnectionPool,
  type SpawnSpec,
} from "./connection.js";
import {
  abortKills,
  readValidity,
  sendEmptyInvalid,
  successOrFailure,
  unsupported,
} from "./exchanges.js";

export interface LinePeerOptions extends SpawnSpec {
  /** UUID of the repository; the server's AUTH-SUCCESS must name it. */
  readonly uuid: string;
  /** Connections for requests at once (default 4). */
  readonly maxConnections?: number;
  /** Connections held by content locks at once (default 16). */
  readonly maxLockConnections?: number;
  /** Highest protocol version to offer (default 4). */
  readonly maxVersion?: ProtocolVersion;
  /** Close connections idle this long (ms, default 60000). */
  readonly idleTimeoutMs?: number;
  /**
   * A request fails with PeerUnreachableError once the repository owes
   * progress (an answer, taking the data sent, the data asked for) and
   * makes none for this long (ms, default 60000). Waiting on our own side
   * (a slow source of a store, a slow reader of a retrieve) never counts.
   */
  readonly stallTimeoutMs?: number;
  /** Debug messages. */
  readonly logger?: Logger;
}

const NO_UUIDS: readonly string[] = [];

/** An abandoned retrieve with at most this much left is read to its end, keeping the connection. */
const SKIP_LIMIT = 1024 * 1024;

/**
 * @example
 * const peer = new LinePeer({ ...gitAnnexShellCommand({ dir, clientUuid }), uuid });
 * const { present } = await peer.checkPresent(key);
 * await peer.close();
 */
export class LinePeer implements Peer {
  readonly uuid: string;
  readonly #pool: ConnectionPool;
  readonly #heldLocks = new Set<ContentLock>();

  readonly #opts: LinePeerOptions;
  constructor(opts: LinePeerOptions) {
    this.#opts = opts;
    this.uuid = opts.uuid;
    this.#pool = new ConnectionPool({
      spec: opts,
      uuid: opts.uuid,
      maxVersion: opts.maxVersion ?? MAX_PROTOCOL_VERSION,
      maxOps: Math.max(1, opts.maxConnections ?? 4),
      maxLocks: Math.max(1, opts.maxLockConnections ?? 16),
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    });
  }

  /** Child processes alive now (idle or in use). */
  get connections(): number {
    return this.#pool.size;
  }

  async checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    return this.#run(ctx, async (c) => {
      await c.send({ type: "CHECKPRESENT", key });
      const r = await c.expect("SUCCESS", "FAILURE");
      return { present: r.type === "SUCCESS" };
    });
  }

  async lockContent(key: Key, ctx?: PeerContext): Promise<LockResult> {
    const c = await this.#pool.acquire("lock", ctx?.bypass ?? [], ctx?.signal);
    let r: "SUCCESS" | "FAILURE";
    try {
      await c.send({ type: "LOCKCONTENT", key });
      r = (await c.expect("SUCCESS", "FAILURE")).type;
    } catch (e) {
      this.#pool.release(c, "lock", false);
      throw e;
    }
    if (r === "FAILURE") {
      // git-annex's server answers FAILURE for content it lacks or cannot lock.
      this.#pool.release(c, "lock", true);
      return LOCK_ABSENT;
    }
    let released: Promise<void> | null = null;
    const lock: ContentLock = {
      keep: () => undefined, // held while the connection is: no expiry to put off
      release: () => {
        released ??= (async () => {
          this.#heldLocks.delete(lock);
          let ok = false;
          try {
            await c.send({ type: "UNLOCKCONTENT" });
            // UNLOCKCONTENT has no reply; any answer to a request after it
            // shows the server has let go of the lock.
            await c.send({ type: "CHECKPRESENT", key });
            await c.expect("SUCCESS", "FAILURE");
            ok = true;
          } catch (e) {
            // The connection is gone, and with it the lock (the server
            // unlocks when the connection drops).
            this.#opts.logger?.warn({ key: formatKey(key), err: errorText(e) }, "unlock failed");
          } finally {
            this.#pool.release(c, "lock", ok);
          }
        })();
        return released;
      },
    };
    this.#heldLocks.add(lock);
    return { kind: "locked", lock };
  }

  async remove(key: Key, opts: { before?: number } = {}, ctx?: PeerContext): Promise<RemoveResult> {
    return this.#run(ctx, async (c) => {
      if (opts.before === undefined) {
        await c.send({ type: "REMOVE", key });
      } else {
        if (c.version < 3) throw unsupported("REMOVE-BEFORE", 3, c.version);
        // A git-annex gateway in front of several repositories answers
        // GETTIMESTAMP with its own clock and translates a REMOVE-BEFORE
        // for each of them only on the connection that asked (P2P/Proxy.hs
        // proxyTimestamp); `before` may have been learnt on another pooled
        // connection, so this one asks again first. Its answer is not
        // needed: `before` is already on the server's clock.
        await c.send({ type: "GETTIMESTAMP" });
        await c.expect("TIMESTAMP");
        await c.send({
          type: "REMOVE-BEFORE",
          timestamp: Math.max(0, Math.floor(opts.before)),
          key,
        });
      }
      const r = await successOrFailure(c);
      return { removed: r.ok, plusUuids: r.plusUuids };
    });
  }

  async getTimestamp(ctx?: PeerContext): Promise<number> {
    return this.#run(ctx, async (c) => {
      await c.send({ type: "GETTIMESTAMP" });
      return (await c.expect("TIMESTAMP")).timestamp;
    });
  }

  /**
   * The protocol has no request for this: as git-annex's getPutOffset does,
   * PUT, note the offset, then send an empty DATA marked INVALID.
   */
  async putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    return this.#run(ctx, async (c) => {
      await c.send({ type: "PUT", associatedFile: null, key });
      const r = await c.expect("PUT-FROM", "ALREADY-HAVE", "ALREADY-HAVE-PLUS");
      if (r.type === "ALREADY-HAVE") return { alreadyHave: true, plusUuids: NO_UUIDS };
      if (r.type === "ALREADY-HAVE-PLUS") return { alreadyHave: true, plusUuids: r.uuids };
      await sendEmptyInvalid(c);
      return { alreadyHave: false, offset: r.offset };
    });
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    return this.#run(ctx, async (c) => {
      await c.send({ type: "PUT", associatedFile: req.associatedFile ?? null, key: req.key });
      const r = await c.expect("PUT-FROM", "ALREADY-HAVE", "ALREADY-HAVE-PLUS");
      if (r.type !== "PUT-FROM") {
        req.data.resume(); // not wanted: drained, so the sender can finish
        return { stored: true, plusUuids: r.type === "ALREADY-HAVE-PLUS" ? r.uuids : NO_UUIDS };
      }
      if (r.offset < req.offset) {
        // The server has less than the bytes the sender left out; they
        // cannot be sent, so nothing can be stored (git-annex's HTTP server
        // does the same, marking the data INVALID).
        req.data.resume();
        await sendEmptyInvalid(c);
        return { stored: false, plusUuids: NO_UUIDS };
      }
      // The server may already have more than the sender left out: those
      // bytes are skipped. (Past the end, git-annex sends DATA 0 VALID and
      // lets the server verify what it has.)
      const skip = r.offset - req.offset;
      const length = Math.max(0, req.length - skip);
      const gate = new ExactLength(length, skip);
      // The source may have failed already, while PUT was answered: its
      // state says so, where an 'error' listener attached now would not.
      let sourceError: unknown = req.data.errored ?? undefined;
      if (sourceError === undefined && req.data.destroyed && !req.data.readableEnded) {
        sourceError = new Error("the data to store was closed before its end");
      }
      req.data.once("error", (e) => {
        // The pipeline passes a failure of the connection (or our own
        // destroy) back to the source: that is not the source failing. A
        // send that stopped (the server stalled) destroys the gate first,
        // which comes back here as an AbortError.
        const passedBack =
          gate.destroyed ||
          e instanceof PeerError ||
          (e as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE";
        if (!passedBack) sourceError ??= e;
      });
      const feeding = pipeline(req.data, gate).then(
        () => true,
        () => false,
      );
      // A connection that dies (or is killed by an abort) while the source
      // stalls must not leave the send waiting for data, even one that died
      // while PUT was answered.
      const unhook = c.onExit(() =>
        gate.destroy(c.fail(PeerUnreachableError, "the connection closed")),
      );
      try {
        await c.ch.sendData(length, gate);
      } catch (e) {
        // Fewer bytes than announced: only closing the connection tells the
        // server (it keeps what arrived, for a resume).
        gate.destroy();
        await feeding;
        // Our own source failing is not the server's fault.
        throw sourceError !== undefined
          ? c.fail(PeerError, `store of ${formatKey(req.key)} broken off`, sourceError)
          : c.fail(PeerUnreachableError, `store of ${formatKey(req.key)} broken off`, e);
      } finally {
        unhook();
      }
      // Data that ran long (or failed after all `length` bytes) is invalid.
      const valid = (await feeding) && gate.outcome === "exact";
      if (c.version >= 1) await c.send({ type: valid ? "VALID" : "INVALID" });
      else if (!valid) {
        throw c.fail(PeerError, `store of ${formatKey(req.key)}: invalid data (protocol v0)`);
      }
      const done = await successOrFailure(c);
      return { stored: done.ok, plusUuids: done.plusUuids };
    });
  }

  async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    return this.#run(ctx, async (c) => {
      if (c.version < 4) throw unsupported("DATA-PRESENT", 4, c.version);
      await c.send({ type: "PUT", associatedFile: null, key });
      const r = await c.expect("PUT-FROM", "ALREADY-HAVE", "ALREADY-HAVE-PLUS");
      if (r.type !== "PUT-FROM") {
        return { stored: true, plusUuids: r.type === "ALREADY-HAVE-PLUS" ? r.uuids : NO_UUIDS };
      }
      await c.send({ type: "DATA-PRESENT" });
      const done = await successOrFailure(c);
      return { stored: done.ok, plusUuids: done.plusUuids };
    });
  }

  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    const c = await this.#pool.acquire("op", ctx?.bypass ?? [], ctx?.signal);
    const stop = abortKills(c, ctx?.signal);
    let length: number;
    try {
      await c.send({ type: "GET", offset, associatedFile: null, key });
      length = (await c.expect("DATA")).length;
      if (length === 0) {
        // git-annex sends DATA 0 then INVALID for content it does not have.
        const valid = await readValidity(c);
        await c.send({ type: valid ? "SUCCESS" : "FAILURE" });
        stop();
        this.#pool.release(c, "op", !c.broken);
        return valid ? { length: 0, data: Readable.from([]), valid: Promise.resolve(true) } : null;
      }
    } catch (e) {
      stop();
      this.#pool.release(c, "op", false);
      throw e;
    }
    const counter = new ByteCounter();
    const payload = c.ch.receiveData(length);
    const valid = pipeline(payload, counter).then(
      async () => {
        try {
          const ok = await readValidity(c);
          await c.send({ type: ok ? "SUCCESS" : "FAILURE" });
          return ok && counter.count === length;
        } catch (e) {
          // `valid` answers whether the bytes were the content: with no
          // VALID to confirm them, they are not. Why is worth a log line.
          this.#opts.logger?.warn(
            { key: formatKey(key), err: errorText(e) },
            "no answer after the data",
          );
          return false;
        } finally {
          stop();
          this.#pool.release(c, "op", !c.broken);
        }
      },
      async () => {
        // Given up by the reader (or the connection broke): a short rest is
        // read past and the connection kept, else it is closed.
        stop();
        let reusable = false;
        if (!c.broken && length - counter.count <= SKIP_LIMIT) {
          try {
            await readValidity(c);
            await c.send({ type: "FAILURE" });
            reusable = !c.broken;
          } catch (e) {
            // Only decides whether the connection is kept; it is not.
            this.#opts.logger?.warn(
              { key: formatKey(key), err: errorText(e) },
              "skipping the rest of the data failed",
            );
            reusable = false;
          }
        }
        this.#pool.release(c, "op", reusable);
        return false;
      },
    );
    return { length, data: counter, valid };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#heldLocks].map((l) => l.release()));
    await this.#pool.close();
  }

  /** Run one exchange on a pooled connection; a failure closes the connection. */
  async #run<T>(
    ctx: PeerContext | undefined,
    exchange: (c: Connection) => Promise<T>,
    kind: ConnectionKind = "op",
  ): Promise<T> {
    const c = await this.#pool.acquire(kind, ctx?.bypass ?? [], ctx?.signal);
    const stop = abortKills(c, ctx?.signal);
    let ok = false;
    try {
      const result = await exchange(c);
      ok = !c.broken;
      return result;
    } catch (e) {
      if (!(e instanceof PeerError)) throw c.fail(PeerError, "request failed", e);
      // A refusal made before anything was sent leaves the connection usable.
      ok = !c.broken && e.data.unsupported === true;
      throw e;
    } finally {
      stop();
      this.#pool.release(c, kind, ok);
    }
  }
}
