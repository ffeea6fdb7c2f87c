/**
 * A repository reached over git-annex's p2phttp API (an annex+http(s) URL):
 * stock `git annex p2phttp`, annexgate's server, or anything speaking
 * design/p2p_protocol_over_http. Every Peer call is one HTTP request (two
 * for a lock: lockcontent, then a long-polling keeplocked).
 *
 * Connections are reused through keep-alive agents whose `maxSockets` bound
 * how many a gateway opens to one remote: one agent for ordinary requests,
 * a second for the keeplocked requests, which hold their connection for as
 * long as the lock is held (so held locks never starve transfers).
 * The HTTP plumbing is client.ts, locks lock.ts, put bodies upload-body.ts,
 * GET bodies (continued when they break off) download-body.ts.
 */
import type { IncomingMessage } from "node:http";
import type { AgentOptions as HttpsAgentOptions } from "node:https";
import { formatKey, type Key } from "../../keys/index.js";
import {
  type ApiVersion,
  DATA_LENGTH_HEADER,
  HttpUrlError,
  type P2pHttpEndpoint,
  parseLockJson,
  parsePresentJson,
  parsePutOffsetJson,
  parseRemovedJson,
  parseStoredJson,
  parseTimestampJson,
  parseP2pHttpUrl as parseUrl,
} from "../../protocol/index.js";
import { errorText, type Logger, StallTimer } from "../../util/index.js";
import {
  type ContentLock,
  DEFAULT_STALL_TIMEOUT_MS,
  LOCK_ABSENT,
  type LockResult,
  type Peer,
  type PeerContext,
  PeerError,
  PeerRefusedError,
  PeerUnreachableError,
  type PresenceResult,
  type PutOffsetResult,
  type RemoveResult,
  type RetrieveResult,
  type StoreRequest,
  type StoreResult,
} from "../peer.js";
import { HttpClient, readBody, responseOf, retryBudget } from "./client.js";
import {
  continuedDownload,
  DEFAULT_CONTINUATIONS,
  getKey,
  promisingExactly,
} from "./download-body.js";
import { keepLocked } from "./lock.js";
import { putFailed, sendPutBody } from "./upload-body.js";

export interface HttpPeerOptions {
  /**
   * Where the API is served: `annex+http://HOST[:PORT]/git-annex/` (port
   * 9417 when none is given), or the same with `annex+https`, `http` or
   * `https`. As in git-annex, a trailing `git-annex` path segment is
   * optional: requests always go to `<path>/git-annex/<uuid>/...`.
   */
  readonly url: string;
  /** UUID of the repository to reach through the server. */
  readonly uuid: string;
  /** UUID of this side, sent as `clientuuid` unless a call's context names one. */
  readonly clientUuid: string;
  /** HTTP basic auth credentials (realm "git-annex"). */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Connections for ordinary requests (default 8). */
  readonly maxSockets?: number;
  /** Connections for held locks (keeplocked long polls; default 16). */
  readonly maxLockSockets?: number;
  /** TLS settings for https (e.g. `ca`), passed to the https Agent. */
  readonly tls?: HttpsAgentOptions;
  /** Highest API version to try (default 4). */
  readonly maxVersion?: ApiVersion;
  /** How often a held lock sends `{"unlock": false}` to keep its connection alive (ms, default 20000). */
  readonly lockKeepAliveMs?: number;
  /**
   * How long a request without a body (all but put and keeplocked) may wait
   * for the server's answer before it fails (ms; default: no limit). Stock
   * git annex p2phttp can hang (see lockContent), and a remove of locked
   * content waits there.
   */
  readonly requestTimeoutMs?: number;
  /**
   * A transfer (put, get) fails with PeerUnreachableError once the server
   * owes progress (taking the body, answering, sending the content asked
   * for) and makes none for this long (ms, default 60000); so does a
   * checkpresent, putoffset or gettimestamp left unanswered that long. Waiting on our
   * own side (a slow source, a slow reader) never counts.
   */
  readonly stallTimeoutMs?: number;
  /**
   * Further GETs one download may make (default 3; 0 none): continuing a
   * body that broke off, with or without progress, from where it stopped,
   * and (once) re-sending a GET left unanswered for the stall timeout.
   */
  readonly downloadContinuations?: number;
  /** How long a lock's release waits for the server's answer (ms, default 30000). */
  readonly unlockTimeoutMs?: number;
  /** Where problems worked around are told (a lock whose release could not be confirmed). */
  readonly logger?: Logger;
}

/**
 * Parse an annex+http(s) (or plain http(s)) URL as git-annex's
 * parseP2PHttpUrl does (protocol/http-request.ts); a bad one is a PeerError.
 */
export function parseP2pHttpUrl(url: string): P2pHttpEndpoint {
  try {
    return parseUrl(url);
  } catch (e) {
    if (e instanceof HttpUrlError) throw new PeerError(e.message, { url }, e);
    throw e;
  }
}

/**
 * @example
 * const peer = new HttpPeer({ url: "annex+http://127.0.0.1:9417/git-annex/", uuid, clientUuid });
 * const { present } = await peer.checkPresent(key);
 * await peer.close();
 */
export class HttpPeer implements Peer {
  readonly uuid: string;
  readonly #client: HttpClient;
  readonly #heldLocks = new Set<ContentLock>();
  #closed = false;

  readonly #opts: HttpPeerOptions;
  constructor(opts: HttpPeerOptions) {
    this.#opts = opts;
    this.uuid = opts.uuid;
    this.#client = new HttpClient({
      endpoint: parseP2pHttpUrl(opts.url),
      uuid: opts.uuid,
      clientUuid: opts.clientUuid,
      ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
      ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
      ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
      maxSockets: Math.max(1, opts.maxSockets ?? 8),
      maxLockSockets: Math.max(1, opts.maxLockSockets ?? 16),
      maxVersion: opts.maxVersion ?? 4,
    });
  }

  /** The API version in use (the highest the server has been seen to serve). */
  get apiVersion(): ApiVersion {
    return this.#client.version;
  }

  async checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    return this.#client.json("checkpresent", ctx, { key }, parsePresentJson, this.#stallMs);
  }

  async lockContent(key: Key, ctx?: PeerContext): Promise<LockResult> {
    // Stock git annex p2phttp (10.20250416) answers a lockcontent of absent
    // content {"locked": false} but never frees the worker that served it;
    // after --jobs of them it hangs for good. Content known absent is not
    // asked about.
    if (!(await this.checkPresent(key, ctx)).present) return LOCK_ABSENT;
    const answer = await this.#client.json(
      "lockcontent",
      ctx,
      { key },
      parseLockJson,
      this.#stallMs,
    );
    if (!answer.locked) return LOCK_ABSENT;
    const lock = await keepLocked({
      client: this.#client,
      version: this.#client.version,
      lockId: answer.lockId,
      ctx,
      keepAliveMs: this.#opts.lockKeepAliveMs ?? 20_000,
      unlockTimeoutMs: this.#opts.unlockTimeoutMs ?? 30_000,
      onReleased: (l) => this.#heldLocks.delete(l),
      ...(this.#opts.logger !== undefined ? { logger: this.#opts.logger } : {}),
    });
    this.#heldLocks.add(lock);
    return { kind: "locked", lock };
  }

  async remove(key: Key, opts: { before?: number } = {}, ctx?: PeerContext): Promise<RemoveResult> {
    const before = opts.before;
    return before === undefined
      ? this.#client.json("remove", ctx, { key }, parseRemovedJson, this.#stallMs)
      : this.#client.json(
          "remove-before",
          ctx,
          { key, timestamp: Math.floor(before) },
          parseRemovedJson,
          this.#stallMs,
        );
  }

  async getTimestamp(ctx?: PeerContext): Promise<number> {
    return this.#client.json("gettimestamp", ctx, {}, parseTimestampJson, this.#stallMs);
  }

  async putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    // v0 has no putoffset; git-annex's client then always starts at 0.
    if ((await this.#confirmedVersion(key, ctx)) === 0) return { alreadyHave: false, offset: 0 };
    return this.#client.json("putoffset", ctx, { key }, parsePutOffsetJson, this.#stallMs);
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    // A request body cannot be sent twice, so the version is settled first.
    const v = await this.#confirmedVersion(req.key, ctx);
    // The client's signal does not break the request off: it ends the body
    // short (see sendPutBody), and the answer is still awaited (bounded by
    // the stall timer), so the server is left in a clean state.
    const { signal, ...unsignalled } = ctx ?? {};
    const creq = this.#client.open(v, "put", unsignalled, {
      method: "POST",
      query: {
        key: req.key,
        ...(req.associatedFile !== undefined ? { associatedFile: req.associatedFile } : {}),
        ...(req.offset !== 0 ? { offset: req.offset } : {}),
      },
      headers: {
        "content-type": "application/octet-stream",
        [DATA_LENGTH_HEADER]: String(req.length),
      },
    });
    const stall = this.#stallTimer((e) => creq.destroy(e));
    const answer = responseOf(creq);
    let answered = false;
    void answer.then(
      () => {
        answered = true;
      },
      () => undefined,
    );
    const body = sendPutBody(req.data, creq, req.length, () => answered, stall, signal);
    let bodyEnded = false;
    // Once the body is all sent, the server owes the answer.
    void body.then(
      (sent) => {
        bodyEnded = sent.complete;
        stall.begin();
      },
      () => undefined,
    );
    let res: IncomingMessage;
    try {
      res = await answer;
    } catch (e) {
      const sent = await body;
      stall.stop();
      if (sent.sourceError !== undefined) throw putFailed(req.key, v, sent.sourceError);
      // A stalled server would not answer a putoffset either.
      if (stall.stalled) throw putFailed(req.key, v, this.#client.unreachable("put", v, e));
      // A server that already has the content may answer at once and close
      // the connection while the body is still being sent (warp does), so
      // the answer is lost; ask again the way git-annex's client asks first.
      // If that fails too, the first failure is the one to report.
      const po = await this.putOffset(req.key, unsignalled).catch((again: unknown) => {
        this.#opts.logger?.warn(
          { key: formatKey(req.key), err: errorText(again) },
          "putoffset after a lost put answer failed",
        );
        return null;
      });
      if (po?.alreadyHave) return { stored: true, plusUuids: po.plusUuids };
      throw putFailed(req.key, v, this.#client.unreachable("put", v, e));
    }
    const result = await this.#client.answer("put", v, res, parseStoredJson).finally(async () => {
      stall.stop();
      // An answer before the whole body went out (warp then resets the
      // connection): this connection must not go back to the pool, and a
      // write still waiting for the server to read must not wait for ever
      // (a server that answered need not read the rest).
      if (!bodyEnded) creq.destroy();
      await body;
    });
    const sent = await body;
    // The server has answered (nothing stored, what arrived kept for a
    // resume); the caller still learns why the upload stopped.
    if (sent.sourceError !== undefined && !result.stored) {
      throw putFailed(req.key, v, sent.sourceError, result);
    }
    return result;
  }

  async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    const v = await this.#confirmedVersion(key, ctx);
    if (v < 4) {
      throw new PeerRefusedError("data-present needs p2phttp v4", {
        operation: "put",
        version: v,
        unsupported: true,
      });
    }
    const res = await this.#client.exchange(v, "put", ctx, {
      method: "POST",
      query: { dataPresent: true, key },
      headers: {
        "content-type": "application/octet-stream",
        [DATA_LENGTH_HEADER]: String(key.size ?? 0),
        "content-length": "0",
      },
    });
    return this.#client.answer("put", v, res, parseStoredJson);
  }

  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    // Settled first so that a 404 means "not here", not "no such version".
    const version = await this.#confirmedVersion(key, ctx);
    // Every further GET of this download, re-sent or continuing, is counted.
    const budget = retryBudget(this.#opts.downloadContinuations ?? DEFAULT_CONTINUATIONS);
    const got = await getKey(this.#client, version, key, offset, ctx, budget, this.#stallMs);
    if (got === null) return null;
    const { res, length } = got;
    if (length === 0) {
      await readBody(res);
      // git-annex answers a missing key with an empty body of length 0;
      // an empty answer is content only when nothing was left to send.
      const nothingLeft = key.size !== undefined && key.size <= offset;
      if (
        !nothingLeft &&
        !(key.size === undefined && (await this.checkPresent(key, ctx)).present)
      ) {
        return null;
      }
    }
    // A body broken off is continued from where it stopped.
    const resume = async (done: number, signal: AbortSignal): Promise<IncomingMessage> => {
      const more = await getKey(
        this.#client,
        version,
        key,
        offset + done,
        { ...ctx, signal },
        budget,
        this.#stallMs,
      );
      return promisingExactly(more, length - done, version);
    };
    const { data, valid } = continuedDownload({
      first: res,
      length,
      resume,
      stallTimer: (breakOff) => this.#stallTimer(breakOff),
      budget,
      signal: ctx?.signal,
    });
    return { length, data, valid };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#heldLocks].map((l) => l.release()));
    this.#client.close();
  }

  /** How long the server may owe a transfer progress and make none (ms). */
  get #stallMs(): number {
    return this.#opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  }

  /** A stall timer for one transfer; `breakOff` ends its request with the error given. */
  #stallTimer(breakOff: (e: PeerUnreachableError) => void): StallTimer {
    const ms = this.#stallMs;
    return new StallTimer(ms, () => {
      this.#client.dropIdle();
      breakOff(new PeerUnreachableError(`p2phttp: no progress for ${ms} ms`, { ms }));
    });
  }

  /**
   * The version to use for a request that cannot be repeated: the
   * remembered one once confirmed, else found with a checkpresent.
   */
  async #confirmedVersion(key: Key, ctx?: PeerContext): Promise<ApiVersion> {
    if (!this.#client.confirmed) await this.checkPresent(key, ctx);
    return this.#client.version;
  }
}
