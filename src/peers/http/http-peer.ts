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
 */
import {
  type ClientRequest,
  type Agent as HttpAgent,
  type IncomingMessage,
  Agent as PlainAgent,
  request,
} from "node:http";
import {
  Agent as HttpsAgent,
  type AgentOptions as HttpsAgentOptions,
  request as httpsRequest,
} from "node:https";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { formatKey, type Key } from "../../keys/index.js";
import {
  type ApiVersion,
  DATA_LENGTH_HEADER,
  DEFAULT_P2PHTTP_PORT,
  decodeB64Value,
  encodeB64Value,
  OPERATION_VERSIONS,
  type Operation,
} from "../../protocol/index.js";
import {
  type ContentLock,
  type Peer,
  type PeerContext,
  PeerError,
  type PresenceResult,
  type PutOffsetResult,
  type RemoveResult,
  type RetrieveResult,
  type StoreRequest,
  type StoreResult,
} from "../peer.js";
import { ByteCounter } from "../streams.js";

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
  /** How long a lock's release waits for the server's answer (ms, default 30000). */
  readonly unlockTimeoutMs?: number;
  /** Debug messages (e.g. a lock whose release could not be confirmed). */
  readonly log?: (line: string) => void;
}

const NO_UUIDS: readonly string[] = [];
const MAX_JSON_BYTES = 1024 * 1024;

interface Target {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number;
  /** Ends with "/git-annex/". */
  readonly prefix: string;
}

/** Parse an annex+http(s) (or plain http(s)) URL as git-annex's parseP2PHttpUrl does. */
export function parseP2pHttpUrl(url: string): Target {
  const plain = url.startsWith("annex+") ? url.slice("annex+".length) : url;
  let u: URL;
  try {
    u = new URL(plain);
  } catch (e) {
    throw new PeerError(`not a p2phttp URL: ${url}`, { url }, e);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new PeerError(`not a p2phttp URL: ${url}`, { url });
  }
  const segments = u.pathname.split("/").filter((s) => s !== "");
  if (segments[segments.length - 1] === "git-annex") segments.pop();
  const base = segments.length === 0 ? "/" : `/${segments.join("/")}/`;
  return {
    secure: u.protocol === "https:",
    hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port === "" ? DEFAULT_P2PHTTP_PORT : Number(u.port),
    prefix: `${base}git-annex/`,
  };
}

/** A non-200 answer (or an unusable one) from the server. */
function statusError(op: Operation, version: ApiVersion, status: number, body: string): PeerError {
  return new PeerError(`p2phttp ${op} (v${version}) answered ${status}: ${body.slice(0, 200)}`, {
    operation: op,
    version,
    status,
    body,
  });
}

/** A connection error of a kept-alive socket the server had closed. */
function isStaleSocket(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED";
}

/** True when the answer means "this server does not serve this version". */
function isVersionMiss(e: unknown): boolean {
  if (!(e instanceof PeerError)) return false;
  const status = e.data.status;
  return status === 404 || (status === 400 && /bad version/i.test(String(e.data.body ?? "")));
}

async function readBody(res: IncomingMessage, limit = MAX_JSON_BYTES): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new PeerError("p2phttp answer too long", { limit });
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString("utf8");
}

type Json = Record<string, unknown>;

function field<T>(json: Json, name: string, type: "boolean" | "number" | "string"): T {
  const v = json[name];
  if (typeof v !== type) {
    throw new PeerError(`p2phttp answer lacks ${type} field "${name}"`, { json });
  }
  return v as T;
}

function plusUuids(json: Json): readonly string[] {
  const v = json.plusuuids;
  if (v === undefined || v === null) return NO_UUIDS;
  if (!Array.isArray(v)) throw new PeerError('p2phttp answer has a bad "plusuuids"', { json });
  return v.map((u) => {
    if (typeof u !== "string")
      throw new PeerError('p2phttp answer has a bad "plusuuids"', { json });
    try {
      return decodeB64Value(u).toString("utf8");
    } catch (e) {
      throw new PeerError('p2phttp answer has a bad "plusuuids"', { json }, e);
    }
  });
}

interface Call {
  readonly method: "GET" | "POST";
  /** Query parameters besides clientuuid and bypass, in order. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers?: Record<string, string>;
  /** For GET .../key/KEY: the key, as the last path segment. */
  readonly keyInPath?: Key;
}

/**
 * @example
 * const peer = new HttpPeer({ url: "annex+http://127.0.0.1:9417/git-annex/", uuid, clientUuid });
 * const { present } = await peer.checkPresent(key);
 * await peer.close();
 */
export class HttpPeer implements Peer {
  readonly uuid: string;
  private readonly target: Target;
  private readonly agent: HttpAgent;
  private readonly lockAgent: HttpAgent;
  private readonly authHeader: string | undefined;
  private readonly lockKeepAliveMs: number;
  private readonly unlockTimeoutMs: number;
  /** Highest version believed to work; lowered while unconfirmed. */
  private version: ApiVersion;
  private confirmed = false;
  private readonly heldLocks = new Set<ContentLock>();
  private closed = false;

  constructor(private readonly opts: HttpPeerOptions) {
    this.uuid = opts.uuid;
    this.target = parseP2pHttpUrl(opts.url);
    const agentOpts = { keepAlive: true, scheduling: "lifo" as const };
    const make = (maxSockets: number): HttpAgent =>
      this.target.secure
        ? new HttpsAgent({ ...agentOpts, ...opts.tls, maxSockets })
        : new PlainAgent({ ...agentOpts, maxSockets });
    this.agent = make(Math.max(1, opts.maxSockets ?? 8));
    this.lockAgent = make(Math.max(1, opts.maxLockSockets ?? 16));
    this.authHeader =
      opts.auth === undefined
        ? undefined
        : `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`, "utf8").toString("base64")}`;
    this.version = opts.maxVersion ?? 4;
    this.lockKeepAliveMs = opts.lockKeepAliveMs ?? 20_000;
    this.unlockTimeoutMs = opts.unlockTimeoutMs ?? 30_000;
  }

  /** The API version in use (the highest the server has been seen to serve). */
  get apiVersion(): ApiVersion {
    return this.version;
  }

  async checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    const json = await this.json("checkpresent", ctx, () => [["key", keyParam(key)]]);
    return { present: field<boolean>(json, "present", "boolean") };
  }

  async lockContent(key: Key, ctx?: PeerContext): Promise<ContentLock | null> {
    // Stock git annex p2phttp (10.20250416) answers a lockcontent of absent
    // content {"locked": false} but never frees the worker that served it;
    // after --jobs of them it hangs for good. Content known absent is not
    // asked about.
    if (!(await this.checkPresent(key, ctx)).present) return null;
    const json = await this.json("lockcontent", ctx, () => [["key", keyParam(key)]]);
    if (!field<boolean>(json, "locked", "boolean")) return null;
    const lockId = field<string>(json, "lockid", "string");
    return this.keepLocked(lockId, ctx);
  }

  async remove(key: Key, opts: { before?: number } = {}, ctx?: PeerContext): Promise<RemoveResult> {
    const before = opts.before;
    const json =
      before === undefined
        ? await this.json("remove", ctx, () => [["key", keyParam(key)]])
        : await this.json("remove-before", ctx, () => [
            ["key", keyParam(key)],
            ["timestamp", String(Math.floor(before))],
          ]);
    return { removed: field<boolean>(json, "removed", "boolean"), plusUuids: plusUuids(json) };
  }

  async getTimestamp(ctx?: PeerContext): Promise<number> {
    const json = await this.json("gettimestamp", ctx, () => []);
    return field<number>(json, "timestamp", "number");
  }

  async putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    // v0 has no putoffset; git-annex's client then always starts at 0.
    if ((await this.confirmedVersion(key, ctx)) === 0) return { alreadyHave: false, offset: 0 };
    const json = await this.json("putoffset", ctx, () => [["key", keyParam(key)]]);
    if (json.alreadyhave === true) return { alreadyHave: true, plusUuids: plusUuids(json) };
    return { alreadyHave: false, offset: field<number>(json, "offset", "number") };
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    // A request body cannot be sent twice, so the version is settled first.
    const v = await this.confirmedVersion(req.key, ctx);
    const query: Array<[string, string]> = [["key", keyParam(req.key)]];
    if (req.associatedFile !== undefined) {
      query.push(["associatedfile", encodeB64Value(req.associatedFile)]);
    }
    if (req.offset !== 0) query.push(["offset", String(req.offset)]);
    const creq = this.open(v, "put", ctx, {
      method: "POST",
      query,
      headers: {
        "content-type": "application/octet-stream",
        [DATA_LENGTH_HEADER]: String(req.length),
      },
    });
    const answer = responseOf(creq);
    let answered = false;
    void answer.then(
      () => {
        answered = true;
      },
      () => undefined,
    );
    const body = sendPutBody(req.data, creq, req.length, () => answered);
    let res: IncomingMessage;
    try {
      res = await answer;
    } catch (e) {
      const sent = await body;
      if (sent.sourceError !== undefined) throw putFailed(req.key, v, sent.sourceError);
      // A server that already has the content may answer at once and close
      // the connection while the body is still being sent (warp does), so
      // the answer is lost; ask again the way git-annex's client asks first.
      const po = await this.putOffset(req.key, ctx).catch(() => null);
      if (po?.alreadyHave) return { stored: true, plusUuids: po.plusUuids };
      throw putFailed(req.key, v, e);
    }
    const json = await this.parseJson("put", v, res).finally(async () => {
      // An answer before the whole body went out (warp then resets the
      // connection): this connection must not go back to the pool.
      if (!(await body).complete) creq.destroy();
    });
    const sent = await body;
    const result = {
      stored: field<boolean>(json, "stored", "boolean"),
      plusUuids: plusUuids(json),
    };
    // The server has answered (nothing stored, what arrived kept for a
    // resume); the caller still learns why the upload stopped.
    if (sent.sourceError !== undefined && !result.stored) {
      throw putFailed(req.key, v, sent.sourceError, result);
    }
    return result;
  }

  async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    const v = await this.confirmedVersion(key, ctx);
    if (v < 4) {
      throw new PeerError("data-present needs p2phttp v4", { operation: "put", version: v });
    }
    const res = await this.exchange(v, "put", ctx, {
      method: "POST",
      query: [
        ["data-present", "true"],
        ["key", keyParam(key)],
      ],
      headers: {
        "content-type": "application/octet-stream",
        [DATA_LENGTH_HEADER]: String(key.size ?? 0),
        "content-length": "0",
      },
    });
    const json = await this.parseJson("put", v, res);
    return { stored: field<boolean>(json, "stored", "boolean"), plusUuids: plusUuids(json) };
  }

  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    // Settled first so that a 404 means "not here", not "no such version".
    const version = await this.confirmedVersion(key, ctx);
    const res = await this.exchange(version, "key", ctx, {
      method: "GET",
      query: offset !== 0 ? [["offset", String(offset)]] : [],
      keyInPath: key,
    });
    if (res.statusCode !== 200) {
      const body = await readBody(res).catch(() => "");
      if (res.statusCode === 404) return null;
      throw statusError("key", version, res.statusCode ?? 0, body);
    }
    const header = res.headers[DATA_LENGTH_HEADER];
    let length: number;
    if (header !== undefined) {
      length = Number(header);
      if (!Number.isSafeInteger(length) || length < 0) {
        res.destroy();
        throw new PeerError("p2phttp GET has a bad data length", { header, version });
      }
    } else if (version === 0 && key.size !== undefined) {
      length = Math.max(0, key.size - offset);
    } else {
      res.destroy();
      throw new PeerError("p2phttp GET lacks X-git-annex-data-length", { version });
    }
    if (length === 0) {
      await readBody(res).catch(() => "");
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
    const counter = new ByteCounter();
    const valid = pipeline(res, counter).then(
      () => counter.count === length,
      () => false,
    );
    return { length, data: counter, valid };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.heldLocks].map((l) => l.release()));
    this.agent.destroy();
    this.lockAgent.destroy();
  }

  // --- requests ---

  /**
   * The version to use for a request that cannot be repeated: the
   * remembered one once confirmed, else found with a checkpresent.
   */
  private async confirmedVersion(key: Key, ctx?: PeerContext): Promise<ApiVersion> {
    if (!this.confirmed) await this.checkPresent(key, ctx);
    return this.version;
  }

  /**
   * Try `op` at the highest version it and the server have, then lower ones
   * while the server answers 404 or 400 "bad version" (as git-annex's client
   * falls back); the version that works is remembered.
   */
  private async withVersions<T>(op: Operation, attempt: (v: ApiVersion) => Promise<T>): Promise<T> {
    const candidates = OPERATION_VERSIONS[op]
      .filter((v) => v <= this.version)
      .sort((a, b) => b - a);
    let last: unknown = new PeerError(
      `the server has no p2phttp ${op} at v${this.version} or below`,
      {
        operation: op,
        version: this.version,
      },
    );
    for (const v of candidates) {
      try {
        const result = await attempt(v);
        if (!this.confirmed || v < this.version) {
          this.version = v;
          this.confirmed = true;
        }
        return result;
      } catch (e) {
        if (this.confirmed || !isVersionMiss(e)) throw e;
        last = e;
      }
    }
    throw last;
  }

  /** A JSON request without a body. */
  private json(
    op: Operation,
    ctx: PeerContext | undefined,
    query: () => Array<[string, string]>,
  ): Promise<Json> {
    return this.withVersions(op, async (v) => {
      const res = await this.exchange(v, op, ctx, {
        method: "POST",
        query: query(),
        headers: { "content-length": "0" },
      });
      return this.parseJson(op, v, res);
    });
  }

  /**
   * A request without a body, and its response. A kept-alive connection
   * that the server closed meanwhile fails before the request reaches the
   * server; such a request is sent once more on a fresh connection.
   */
  private async exchange(
    v: ApiVersion,
    op: Operation,
    ctx: PeerContext | undefined,
    call: Call,
  ): Promise<IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const creq = this.open(v, op, ctx, call);
      creq.end();
      const limit = this.opts.requestTimeoutMs;
      const timer =
        limit === undefined
          ? undefined
          : setTimeout(() => {
              creq.destroy(new PeerError(`no answer within ${limit} ms`, { operation: op }));
            }, limit);
      try {
        return await responseOf(creq);
      } catch (e) {
        if (attempt === 0 && creq.reusedSocket && isStaleSocket(e) && !ctx?.signal?.aborted) {
          continue;
        }
        throw new PeerError(
          `p2phttp ${op} to ${this.target.hostname}:${this.target.port} failed: ${(e as Error).message}`,
          { operation: op, version: v },
          e,
        );
      } finally {
        clearTimeout(timer);
      }
    }
  }

  private async parseJson(op: Operation, v: ApiVersion, res: IncomingMessage): Promise<Json> {
    const body = await readBody(res);
    if (res.statusCode !== 200) throw statusError(op, v, res.statusCode ?? 0, body);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (e) {
      throw new PeerError(`p2phttp ${op} answered with bad JSON`, { operation: op, body }, e);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new PeerError(`p2phttp ${op} answered with bad JSON`, { operation: op, body });
    }
    return json as Json;
  }

  private open(
    v: ApiVersion,
    op: Operation,
    ctx: PeerContext | undefined,
    call: Call,
    agent: HttpAgent = this.agent,
  ): ClientRequest {
    if (this.closed) throw new PeerError("peer is closed", { uuid: this.uuid });
    const params: Array<readonly [string, string]> = [...call.query];
    params.push(["clientuuid", encodeB64Value(ctx?.clientUuid ?? this.opts.clientUuid)]);
    if (v >= 2) for (const b of ctx?.bypass ?? []) params.push(["bypass", encodeB64Value(b)]);
    const qs = params.map(([k, val]) => `${k}=${encodeURIComponent(val)}`).join("&");
    const keySegment =
      call.keyInPath !== undefined ? `/${encodeURIComponent(keyParam(call.keyInPath))}` : "";
    const path = `${this.target.prefix}${encodeURIComponent(encodeB64Value(this.uuid))}/v${v}/${op}${keySegment}${qs === "" ? "" : `?${qs}`}`;
    const headers: Record<string, string> = { ...call.headers };
    if (this.authHeader !== undefined) headers.authorization = this.authHeader;
    const options = {
      method: call.method,
      hostname: this.target.hostname,
      port: this.target.port,
      path,
      headers,
      agent,
      ...(ctx?.signal !== undefined ? { signal: ctx.signal } : {}),
    };
    return this.target.secure ? httpsRequest(options) : request(options);
  }

  /**
   * keeplocked: a POST whose streaming body stays open while the lock is
   * held; `{"unlock": true}` ends it, and the server answers once the lock
   * is dropped (design/p2p_protocol_over_http, keeplocked).
   */
  private async keepLocked(lockId: string, ctx: PeerContext | undefined): Promise<ContentLock> {
    const v = this.version;
    const { signal: _ignored, ...lockCtx } = ctx ?? {};
    const creq = this.open(
      v,
      "keeplocked",
      lockCtx,
      {
        method: "POST",
        query: [["lockid", lockId]],
        headers: {
          "content-type": "application/json;charset=utf-8",
          connection: "keep-alive",
          "keep-alive": "timeout=1200",
        },
      },
      this.lockAgent,
    );
    // Settles with null (answered 200: the lock is dropped) or what went wrong.
    const answer: Promise<unknown> = responseOf(creq)
      .then(async (res) => {
        const body = await readBody(res);
        return res.statusCode === 200
          ? null
          : statusError("keeplocked", v, res.statusCode ?? 0, body);
      })
      .catch((e: unknown) => e);
    const write = (line: string) =>
      new Promise<void>((resolve, reject) => creq.write(line, (e) => (e ? reject(e) : resolve())));
    // git-annex's client sends {"unlock": false} first; it also sends the headers.
    const first = write('{"unlock":false}\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    const early = await Promise.race([first, answer]);
    if (early !== undefined) {
      // Answered (or failed) before the lock was kept: it is not held.
      creq.destroy();
      throw early instanceof PeerError
        ? early
        : new PeerError("p2phttp keeplocked failed", { operation: "keeplocked" }, early);
    }
    const timer = setInterval(() => {
      if (!creq.destroyed && !creq.writableEnded) creq.write('{"unlock":false}\n');
    }, this.lockKeepAliveMs);
    timer.unref();
    let released: Promise<void> | null = null;
    const lock: ContentLock = {
      keep: () => undefined, // keeplocked already holds it until release
      release: () => {
        released ??= (async () => {
          clearInterval(timer);
          this.heldLocks.delete(lock);
          if (!creq.destroyed && !creq.writableEnded) creq.end('{"unlock":true}\n');
          // A server that never answers must not hold up the caller (or close()).
          let waited: NodeJS.Timeout | undefined;
          const outcome = await Promise.race([
            answer,
            new Promise<PeerError>((resolve) => {
              waited = setTimeout(
                () => resolve(new PeerError("no answer to unlock", { lockId })),
                this.unlockTimeoutMs,
              );
            }),
          ]);
          clearTimeout(waited);
          if (outcome !== null) {
            creq.destroy();
            // The server keeps an unconfirmed lock until its own expiry
            // (10 minutes in git-annex); nothing more can be done here.
            this.opts.log?.(`p2phttp: unlock of ${lockId} not confirmed: ${String(outcome)}`);
          }
        })();
        return released;
      },
    };
    this.heldLocks.add(lock);
    return lock;
  }
}

function keyParam(key: Key): string {
  return encodeB64Value(formatKey(key));
}

/**
 * The response to a request. The error listener stays on for the request's
 * whole life, so a socket that breaks after the answer is not an uncaught
 * error (the response stream reports it to whoever reads the body).
 */
function responseOf(creq: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    creq.once("response", resolve);
    creq.on("error", reject);
  });
}

interface SentBody {
  /** False when the body was not ended (the request must not be reused). */
  readonly complete: boolean;
  /** Set when `data` failed; the body was then ended short. */
  readonly sourceError?: unknown;
}

function putFailed(key: Key, v: ApiVersion, cause: unknown, answer?: StoreResult): PeerError {
  return new PeerError(
    `p2phttp put of ${formatKey(key)} failed`,
    { operation: "put", version: v, ...(answer ? { answer } : {}) },
    cause,
  );
}

/**
 * Writes a put body of `length` bytes from `data`, with backpressure, and
 * ends it. The last chunk is held back until `data` ends, so that the body
 * can always be ended short of `length` when the data is not right: when it
 * runs long (cut one byte short, as git-annex's clientPut does) and when it
 * fails mid-way (ended one byte short of what came, not broken off: stock
 * git-annex keeps what arrived in a short body for a later resume, but
 * nothing of a broken connection).
 * Excess data, and data after the server has answered, is read and dropped.
 */
async function sendPutBody(
  data: Readable,
  creq: ClientRequest,
  length: number,
  answered: () => boolean,
): Promise<SentBody> {
  let passed = 0;
  let long = false;
  let held: Buffer | null = null;
  let sourceError: unknown;
  const writable = () => !creq.destroyed && !creq.writableEnded && !answered();
  const write = async (chunk: Buffer): Promise<void> => {
    if (!writable() || creq.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        creq.off("drain", done);
        creq.off("close", done);
        resolve();
      };
      creq.on("drain", done);
      creq.on("close", done);
    });
  };
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) {
      if (long || !writable()) continue;
      let piece = chunk;
      if (passed + piece.length > length) {
        long = true;
        piece = piece.subarray(0, length - passed);
      }
      passed += piece.length;
      if (piece.length === 0) continue;
      if (held) await write(held);
      held = piece;
    }
  } catch (e) {
    sourceError = e;
  }
  if (!writable()) {
    // Answered (or broken) before the body was all sent: the connection
    // cannot carry another request; the caller destroys it.
    return { complete: false, ...(sourceError === undefined ? {} : { sourceError }) };
  }
  // Whatever is sent must then be short of `length` to read as invalid; an
  // empty body cannot be, so that request is broken off instead.
  if (sourceError !== undefined || long) {
    if (length === 0) {
      creq.destroy(new PeerError("put data invalid", { length }));
      return { complete: false, ...(sourceError === undefined ? {} : { sourceError }) };
    }
    // All but the last byte of what came (never more than `length`).
    if (held) await write(held.subarray(0, -1));
  } else if (held) {
    await write(held);
  }
  creq.end();
  return { complete: true, ...(sourceError === undefined ? {} : { sourceError }) };
}
