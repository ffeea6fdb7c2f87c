/**
 * The p2phttp front-end: git-annex's P2P protocol over HTTP, served on
 * node:http for any Peer the directory knows by UUID. It knows the wire and
 * nothing of storage; every request becomes one Peer call.
 *
 * Checks run in the order git-annex's (servant) server runs them, so that
 * malformed requests get the same status: route (404 / 400 bad version),
 * captured values (400), method (405 on the unversioned key path, else 400),
 * query parameters and headers (400),
 * then the repository (404) and authorization (401 / 403).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { formatKey, type Key } from "../../keys/index.js";
import { objectLockCounts } from "../../objects/index.js";
import { LazySignalContext, type Peer, type PeerContext } from "../../peers/index.js";
import {
  type ActionClass,
  DATA_LENGTH_HEADER,
  HttpApiError,
  lockJson,
  presentJson,
  putOffsetJson,
  removedJson,
  storedJson,
  timestampJson,
} from "../../protocol/index.js";
import { errorText, Semaphore } from "../../util/index.js";
import { sendError, sendJson } from "./answers.js";
import { type AuthDecision, parseBasicAuth } from "./auth.js";
import { ClientCounts } from "./client-limits.js";
import { errorAnswer } from "./error-answer.js";
import { HeldLocks } from "./held-locks.js";
import {
  completeIndirect,
  isUploadUrlRequest,
  serveUploadUrl,
  UPLOAD_URL_ENDPOINT,
} from "./indirect-route.js";
import { untilUnlock } from "./keeplocked.js";
import { DEFAULT_LIMITS, type P2pHttpOptions } from "./options.js";
import { type ApiRequest, parseRequest } from "./request.js";
import { ClientGoneError, type RequestEnd, watchRequestEnd } from "./request-end.js";
import { RequestRecord, type TransferProgress, targetKindOf } from "./request-record.js";
import { sendContent } from "./send-content.js";
import { openFileDescriptors, type ServerStats } from "./stats.js";

/** The client's address, the unit of the per-client limits. */
function clientOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

export class P2pHttpServer {
  readonly #locks: HeldLocks;
  readonly #transfers: Semaphore;
  readonly #clients: ClientCounts;
  /** Requests in progress; those that are transfers report their progress. */
  readonly #inFlight = new Set<RequestRecord>();
  #requestsSeen = 0;

  readonly #opts: P2pHttpOptions;
  constructor(opts: P2pHttpOptions) {
    this.#opts = opts;
    this.#transfers = new Semaphore(
      Math.max(1, opts.jobs),
      opts.maxQueued ?? DEFAULT_LIMITS.maxQueued,
    );
    this.#clients = new ClientCounts(opts.maxPerClient ?? DEFAULT_LIMITS.maxPerClient);
    this.#locks = new HeldLocks(
      opts.lockRetentionMs ?? 10 * 60 * 1000,
      opts.maxLocksPerClient ?? DEFAULT_LIMITS.maxLocksPerClient,
    );
  }

  /** What the server holds now; a request cut off must leave these as they were. */
  stats(): ServerStats {
    const locks = this.#locks.counts();
    const objects = objectLockCounts();
    return {
      requestsSeen: this.#requestsSeen,
      requests: this.#clients.total(),
      transferSlots: this.#transfers.active,
      transferSlotsTotal: Math.max(1, this.#opts.jobs),
      queuedTransfers: this.#transfers.waiting,
      keyLocks: objects.keyLocks,
      contentLocks: objects.contentLocks,
      heldLocks: locks.held,
      keptLocks: locks.kept,
      openFds: openFileDescriptors(),
    };
  }

  /** The transfers being served now, with how far each got. */
  transfers(): TransferProgress[] {
    const out: TransferProgress[] = [];
    for (const r of this.#inFlight) {
      const p = r.progress();
      if (p !== null) out.push(p);
    }
    return out;
  }

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    // First, before anything asynchronous: see the request end, however early.
    const end = watchRequestEnd(req, res);
    this.#requestsSeen++;
    const record = new RequestRecord(req, res);
    const { logger, observer } = this.#opts;
    this.#inFlight.add(record);
    const client = clientOf(req);
    const entered = this.#clients.enter(client);
    let unfinished = 2; // the client counts until its answer and its work are done
    const finishedOne = () => {
      if (--unfinished === 0 && entered) this.#clients.leave(client);
    };
    void end.done.then(() => {
      this.#inFlight.delete(record);
      try {
        record.end(logger, observer);
      } catch {
        // A log or metric that fails must not take the server down.
      }
      finishedOne();
    });
    if (!entered) {
      sendError(res, 429, "too many requests from this client at once, try again later");
      req.resume();
      return;
    }
    const side = this.#opts.sideRoutes?.serve(req, res, (action) => this.#may(req, action));
    if (side) record.side(side.endpoint);
    const served = (side ? side.done : this.#serve(req, res, end, record)).catch((err: unknown) => {
      // Nobody to answer: what the request held was released on the way out.
      if (err instanceof ClientGoneError || end.aborted) {
        res.destroy();
        return;
      }
      const { status, body, log } = errorAnswer(err, record.id);
      if (log) logger?.[log.level]({ reqId: record.id, err: log.err }, log.msg);
      sendError(res, status, body);
      // Do not read an unwanted body to its end; it may be huge.
      if (!req.complete) req.resume();
    });
    served.then(finishedOne, (err: unknown) => {
      // The answer to a failure failed too: closed (its end releases the rest).
      res.destroy();
      finishedOne();
      logger?.error({ reqId: record.id, err: errorText(err) }, "request failed unanswered");
    });
  };

  /** Whether the client of `req` may do an action of a class (read by default), by the API's users and flags. */
  #may(req: IncomingMessage, action: ActionClass = "read"): AuthDecision {
    const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
    return this.#opts.auth.decide(secure, parseBasicAuth(req.headers.authorization), action);
  }

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    end: RequestEnd,
    record: RequestRecord,
  ): Promise<void> {
    if (isUploadUrlRequest(req)) {
      // annexgate's extension: answered by its own rules, behind the API's users.
      record.side(UPLOAD_URL_ENDPOINT);
      const { peers, auth } = this.#opts;
      return serveUploadUrl(req, res, { peers, auth, end, record, client: clientOf(req) });
    }
    const r = parseRequest(req);
    record.parsed(r);
    // A malformed Authorization header is a 400 among the header checks,
    // before the repository is looked up (servant's order).
    const creds = parseBasicAuth(req.headers.authorization);
    const peer = await this.#opts.peers.lookup(r.uuid);
    end.check();
    if (!peer) throw new HttpApiError(404, "not found");
    const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
    const decision = this.#opts.auth.decide(secure, creds, r.action);
    if (!decision.allow) throw new HttpApiError(decision.status, "");
    record.reached(targetKindOf(peer), creds?.user);
    if (r.refusal) throw r.refusal;
    // The signal is made only if a peer looks (see request-end.ts).
    const ctx = new LazySignalContext(
      { clientUuid: r.clientUuid, bypass: r.bypass, requestId: record.id },
      () => end.signal,
    );
    await this.#dispatch(r, peer, ctx, req, res, end, record);
  }

  async #dispatch(
    r: ApiRequest,
    peer: Peer,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
    end: RequestEnd,
    record: RequestRecord,
  ): Promise<void> {
    const op = r.path.kind === "generic-key" ? "key" : r.path.operation;
    const key = r.key as Key;
    const answer = (body: string) => {
      end.check();
      sendJson(res, body);
    };
    switch (op) {
      case "key":
        // Stock git-annex takes a negative offset and promises more bytes
        // than the object has, then sends none; refused here instead.
        if (r.offset < 0)
          throw new HttpApiError(400, "Error parsing offset failed: negative offset");
        return this.#transfers.run(
          () => this.#serveGet(peer, key, r.offset, ctx, req, res, end, record),
          end.signal,
        );
      case "checkpresent":
        return answer(presentJson((await peer.checkPresent(key, ctx)).present));
      case "gettimestamp":
        return answer(timestampJson(await peer.getTimestamp(ctx)));
      case "remove": {
        const p = await peer.remove(key, {}, ctx);
        return answer(removedJson(r.version, p.removed, p.plusUuids));
      }
      case "remove-before": {
        const p = await peer.remove(key, { before: r.timestamp as number }, ctx);
        return answer(removedJson(r.version, p.removed, p.plusUuids));
      }
      case "putoffset":
        return answer(putOffsetJson(r.version, await peer.putOffset(key, ctx)));
      case "put":
        return this.#transfers.run(
          () => this.#servePut(r, peer, key, ctx, req, res, record),
          end.signal,
        );
      case "lockcontent":
        return this.#serveLockContent(r.uuid, peer, key, ctx, req, res, end);
      case "keeplocked":
        return this.#serveKeepLocked(r, req, res, end);
    }
  }

  async #serveGet(
    peer: Peer,
    key: Key,
    offset: number,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
    end: RequestEnd,
    record: RequestRecord,
  ): Promise<void> {
    end.check();
    const got = await peer.retrieve(key, offset, ctx);
    if (end.aborted) {
      got?.data.destroy();
      throw new ClientGoneError();
    }
    if (!got) {
      // git-annex answers a missing key with an empty body of promised length 0.
      res.writeHead(200, { "Content-Type": "application/octet-stream", [DATA_LENGTH_HEADER]: "0" });
      res.end();
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      [DATA_LENGTH_HEADER]: String(got.length),
    });
    if (req.method === "HEAD") {
      got.data.destroy();
      res.end();
      return;
    }
    record.sendingContent(got.length);
    try {
      await sendContent(got, res);
    } catch (e) {
      // The response is cut short either way (the client reads that as a
      // failed download); a client that went away is expected, anything
      // else (the source failed mid-way) is worth a log line.
      got.data.destroy();
      if (!end.aborted) {
        this.#opts.logger?.warn(
          { reqId: record.id, key: formatKey(key), err: errorText(e) },
          "download broke off",
        );
      }
    }
  }

  async #servePut(
    r: ApiRequest,
    peer: Peer,
    key: Key,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
  ): Promise<void> {
    ctx.signal?.throwIfAborted();
    if (r.dataPresent) {
      req.resume();
      const p =
        (await completeIndirect(this.#opts, req, r, key, ctx)) ??
        (await peer.storePresent(key, ctx));
      ctx.signal?.throwIfAborted();
      return sendJson(res, storedJson(r.version, p.stored, p.plusUuids));
    }
    if (r.offset < 0 || (r.dataLength as number) < 0) {
      // git-annex parses these, then fails to store; so does this, untouched.
      req.resume();
      return sendJson(res, storedJson(r.version, false, []));
    }
    record.receivingContent(r.dataLength as number);
    const p = await peer.store(
      {
        key,
        offset: r.offset,
        length: r.dataLength as number,
        data: req,
        ...(r.associatedFile !== undefined ? { associatedFile: r.associatedFile } : {}),
      },
      ctx,
    );
    ctx.signal?.throwIfAborted();
    if (!req.complete) {
      // The store stopped reading before the body ended (every node failed
      // or already had it): the rest is never read, and a client still
      // sending would wait on it for ever. As warp does, the connection
      // closes after this answer.
      res.shouldKeepAlive = false;
    }
    if (p.stored) record.contentStored();
    sendJson(res, storedJson(r.version, p.stored, p.plusUuids));
  }

  async #serveLockContent(
    uuid: string,
    peer: Peer,
    key: Key,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
    end: RequestEnd,
  ): Promise<void> {
    const r = await peer.lockContent(key, ctx);
    // Absent and unsupported read the same on the wire: not locked.
    if (r.kind !== "locked") {
      end.check();
      return sendJson(res, lockJson(false));
    }
    const lockId = await this.#locks.add(r.lock, uuid, clientOf(req));
    if (lockId === null) {
      throw new HttpApiError(429, "too many content locks held by this client");
    }
    if (end.aborted) {
      // Nobody will ever learn this lock's id: it must not be held.
      await this.#locks.releaseId(lockId);
      throw new ClientGoneError();
    }
    sendJson(res, lockJson(true, lockId));
    void end.done.then(() => {
      if (!res.writableFinished) return this.#locks.releaseId(lockId);
    });
  }

  async #serveKeepLocked(
    r: ApiRequest,
    req: IncomingMessage,
    res: ServerResponse,
    end: RequestEnd,
  ): Promise<void> {
    const held = this.#locks.keep(r.lockId as string, r.uuid);
    // A kept lock waits on its client, however quiet: it is bounded by the
    // per-client lock cap, not the idle timeout. An unknown id is not.
    if (held) req.socket.setTimeout(0);
    // Long polling: the lock is held until the body says unlock, or the
    // body ends or breaks, or the connection does.
    try {
      await untilUnlock(req, end.signal);
    } finally {
      if (held) await this.#locks.release(held);
    }
    end.check();
    sendJson(res, lockJson(false));
    req.resume();
  }

  /** Release every lock (server shutdown). */
  close(): Promise<void> {
    return this.#locks.close();
  }
}

export { DEFAULT_LIMITS, type P2pHttpOptions, type PeerDirectory } from "./options.js";
export type { ApiRequest } from "./request.js";
