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
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AnnexgateError } from "../../errors.js";
import { genUuid, type Key } from "../../keys/index.js";
import type { ContentLock, Peer, PeerContext } from "../../peers/index.js";
import {
  AUTH_REALM_HEADER,
  DATA_LENGTH_HEADER,
  HttpAnswerError,
  HttpApiError,
  JSON_CONTENT_TYPE,
  lockJson,
  parseUnlockJson,
  presentJson,
  putOffsetJson,
  removedJson,
  storedJson,
  timestampJson,
} from "../../protocol/index.js";
import { LastChunk, Semaphore } from "../../util/index.js";
import { type Authorizer, parseBasicAuth } from "./auth.js";
import { type ApiRequest, parseRequest } from "./request.js";

/** Finds the Peer that serves a UUID: a served repository, or a remote or cluster it is a gateway for. */
export interface PeerDirectory {
  /** The Peer for `uuid`, or null; may rescan (e.g. `--directory`). */
  lookup(uuid: string): Promise<Peer | null>;
}

export interface P2pHttpOptions {
  readonly peers: PeerDirectory;
  readonly auth: Authorizer;
  /** Concurrent transfers (get/put); others wait their turn. */
  readonly jobs: number;
  /** True when served over TLS (decides whether --authenv applies). */
  readonly secure: boolean;
  /** How long a lockcontent lock lasts without keeplocked (ms). */
  readonly lockRetentionMs?: number;
  readonly log?: (line: string) => void;
  /** When set, one line per request: method, URL, status, milliseconds. */
  readonly requestLog?: (line: string) => void;
}

interface HeldLockEntry {
  readonly lock: ContentLock;
  readonly uuid: string;
  readonly timer: NodeJS.Timeout;
}

function sendJson(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { "Content-Type": JSON_CONTENT_TYPE });
  res.end(body);
}

/**
 * The one place an error becomes an HTTP answer: a request the API refuses
 * gets its status and message; anything else is 500 with the message of an
 * error annexgate made on purpose, or a fixed text (a raw system error may
 * name server paths).
 */
function errorResponse(err: unknown): { status: number; body: string } {
  if (err instanceof HttpApiError) return { status: err.status, body: err.message };
  if (err instanceof AnnexgateError) return { status: 500, body: err.message };
  return { status: 500, body: "Something went wrong" };
}

function sendError(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  if (status === 401) headers["WWW-Authenticate"] = AUTH_REALM_HEADER;
  res.writeHead(status, headers);
  res.end(message);
}

/**
 * Holds back the last chunk of a download until the sender says whether the
 * data was valid; when it was not, but the promised length was reached, the
 * response is cut one byte short so the client knows (as git-annex does).
 */
class ValidityGate extends Transform {
  private readonly last = new LastChunk();
  private sent = 0;
  constructor(
    private readonly length: number,
    private readonly valid: Promise<boolean>,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const before = this.last.hold(chunk);
    if (before) {
      this.sent += before.length;
      this.push(before);
    }
    cb();
  }
  override _flush(cb: TransformCallback): void {
    this.valid.then(
      (ok) => {
        let last = this.last.take();
        if (last && !ok && this.sent + last.length === this.length) {
          last = last.subarray(0, last.length - 1);
        }
        if (last && last.length > 0) this.push(last);
        cb();
      },
      (err: unknown) => cb(err as Error),
    );
  }
}

export class P2pHttpServer {
  private readonly locks = new Map<string, HeldLockEntry>();
  private readonly transfers: Semaphore;
  private readonly lockRetentionMs: number;

  constructor(private readonly opts: P2pHttpOptions) {
    this.transfers = new Semaphore(Math.max(1, opts.jobs));
    this.lockRetentionMs = opts.lockRetentionMs ?? 10 * 60 * 1000;
  }

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const requestLog = this.opts.requestLog;
    if (requestLog) {
      const started = performance.now();
      res.once("close", () => {
        const ms = (performance.now() - started).toFixed(1);
        const how = res.writableFinished ? res.statusCode : `${res.statusCode} aborted`;
        requestLog(`${req.method} ${req.url} ${how} ${ms}ms`);
      });
    }
    this.serve(req, res).catch((err: unknown) => {
      const { status, body } = errorResponse(err);
      if (status === 500) this.opts.log?.(`p2phttp: ${String((err as Error)?.stack ?? err)}`);
      sendError(res, status, body);
      // Do not read an unwanted body to its end; it may be huge.
      if (!req.complete) req.resume();
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = parseRequest(req);
    // A malformed Authorization header is a 400 among the header checks,
    // before the repository is looked up (servant's order).
    const creds = parseBasicAuth(req.headers.authorization);
    const peer = await this.opts.peers.lookup(r.uuid);
    if (!peer) throw new HttpApiError(404, "not found");
    const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
    const decision = this.opts.auth.decide(secure, creds, r.action);
    if (!decision.allow) throw new HttpApiError(decision.status, "");
    if (r.refusal) throw r.refusal;

    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort(new Error("client went away"));
    };
    res.on("close", onClose);
    const ctx: PeerContext = {
      ...(r.clientUuid !== undefined ? { clientUuid: r.clientUuid } : {}),
      bypass: r.bypass,
      signal: controller.signal,
    };
    try {
      await this.dispatch(r, peer, ctx, req, res);
    } finally {
      res.off("close", onClose);
    }
  }

  private async dispatch(
    r: ApiRequest,
    peer: Peer,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const op = r.path.kind === "generic-key" ? "key" : r.path.operation;
    const key = r.key as Key;
    switch (op) {
      case "key":
        // Stock git-annex takes a negative offset and promises more bytes
        // than the object has, then sends none; refused here instead.
        if (r.offset < 0)
          throw new HttpApiError(400, "Error parsing offset failed: negative offset");
        return this.transfers.run(() => this.serveGet(peer, key, r.offset, ctx, req, res));
      case "checkpresent": {
        const p = await peer.checkPresent(key, ctx);
        return sendJson(res, presentJson(p.present));
      }
      case "gettimestamp":
        return sendJson(res, timestampJson(await peer.getTimestamp(ctx)));
      case "remove": {
        const p = await peer.remove(key, {}, ctx);
        return sendJson(res, removedJson(r.version, p.removed, p.plusUuids));
      }
      case "remove-before": {
        const p = await peer.remove(key, { before: r.timestamp as number }, ctx);
        return sendJson(res, removedJson(r.version, p.removed, p.plusUuids));
      }
      case "putoffset":
        return sendJson(res, putOffsetJson(r.version, await peer.putOffset(key, ctx)));
      case "put":
        return this.transfers.run(() => this.servePut(r, peer, key, ctx, req, res));
      case "lockcontent":
        return this.serveLockContent(r.uuid, peer, key, ctx, res);
      case "keeplocked":
        return this.serveKeepLocked(r, req, res);
    }
  }

  private async serveGet(
    peer: Peer,
    key: Key,
    offset: number,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const got = await peer.retrieve(key, offset, ctx);
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
    try {
      await pipeline(got.data, new ValidityGate(got.length, got.valid), res);
    } catch (e) {
      // The response is cut short either way (the client reads that as a
      // failed download); a client that went away is expected, anything
      // else (the source failed mid-way) is worth a log line.
      got.data.destroy();
      if (!ctx.signal?.aborted) this.opts.log?.(`p2phttp: download broke off: ${String(e)}`);
    }
  }

  private async servePut(
    r: ApiRequest,
    peer: Peer,
    key: Key,
    ctx: PeerContext,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    if (r.dataPresent) {
      req.resume();
      const p = await peer.storePresent(key, ctx);
      return sendJson(res, storedJson(r.version, p.stored, p.plusUuids));
    }
    if (r.offset < 0 || (r.dataLength as number) < 0) {
      // git-annex parses these, then fails to store; so does this, untouched.
      req.resume();
      return sendJson(res, storedJson(r.version, false, []));
    }
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
    if (res.destroyed) return;
    sendJson(res, storedJson(r.version, p.stored, p.plusUuids));
  }

  private async serveLockContent(
    uuid: string,
    peer: Peer,
    key: Key,
    ctx: PeerContext,
    res: ServerResponse,
  ): Promise<void> {
    const r = await peer.lockContent(key, ctx);
    // Absent and unsupported read the same on the wire: not locked.
    if (r.kind !== "locked") return sendJson(res, lockJson(false));
    const lock = r.lock;
    const lockId = genUuid();
    // Without keeplocked the lock ends when it expires.
    const timer = setTimeout(() => {
      this.locks.delete(lockId);
      void lock.release();
    }, this.lockRetentionMs);
    timer.unref();
    this.locks.set(lockId, { lock, uuid, timer });
    sendJson(res, lockJson(true, lockId));
  }

  private async serveKeepLocked(
    r: ApiRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const id = r.lockId as string;
    const entry = this.locks.get(id);
    const held = entry && entry.uuid === r.uuid ? entry : undefined;
    if (held) {
      // keeplocked disables the expiry, as git-annex's keepingLocked does:
      // the lock now lasts until this request unlocks or ends.
      clearTimeout(held.timer);
      held.lock.keep();
    }
    const drop = async () => {
      if (!held) return;
      clearTimeout(held.timer);
      if (this.locks.get(id) === held) this.locks.delete(id);
      await held.lock.release();
    };
    // Long polling: the body is newline-separated {"unlock": bool} objects;
    // the lock is held until one says true, or the body ends or breaks.
    let buffered = "";
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        req.off("data", onData);
        resolve();
      };
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === "") continue;
          let unlock: boolean;
          try {
            unlock = parseUnlockJson(line);
          } catch (e) {
            if (!(e instanceof HttpAnswerError)) throw e;
            return finish(); // malformed: stop holding, as an errored stream does
          }
          if (unlock) return finish();
        }
        if (buffered.length > 4096) finish(); // no sane unlock request is this long
      };
      req.on("data", onData);
      req.once("end", finish);
      req.once("error", finish);
      req.once("close", finish);
    });
    await drop();
    if (!res.destroyed) sendJson(res, lockJson(false));
    req.resume();
  }

  /** Release every lock (server shutdown). */
  async close(): Promise<void> {
    const entries = [...this.locks.values()];
    this.locks.clear();
    for (const e of entries) {
      clearTimeout(e.timer);
      await e.lock.release();
    }
  }
}

export type { ApiRequest } from "./request.js";
