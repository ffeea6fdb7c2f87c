/**
 * The HTTP side of the p2phttp client Peer: connections (keep-alive agents),
 * authentication, the API version in use and its fallback, and the one place
 * where HTTP outcomes become Peer errors: no answer is PeerUnreachableError,
 * a non-200 answer PeerRefusedError, an answer the API does not allow
 * PeerProtocolError. Paths, values and JSON go through protocol/.
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
import {
  type ApiQuery,
  type ApiTarget,
  type ApiVersion,
  basicAuthHeader,
  formatApiRequest,
  HttpAnswerError,
  isVersionMiss,
  type Operation,
  type P2pHttpEndpoint,
  REQUEST_ID_HEADER,
  VersionFallback,
} from "../../protocol/index.js";
import {
  type PeerContext,
  PeerError,
  PeerProtocolError,
  PeerRefusedError,
  PeerUnreachableError,
} from "../peer.js";

const MAX_JSON_BYTES = 1024 * 1024;

export interface ClientOptions {
  readonly endpoint: P2pHttpEndpoint;
  /** UUID of the repository reached. */
  readonly uuid: string;
  /** UUID of this side, unless a call's context names one. */
  readonly clientUuid: string;
  readonly auth?: { readonly user: string; readonly password: string };
  readonly maxSockets: number;
  readonly maxLockSockets: number;
  readonly tls?: HttpsAgentOptions;
  readonly maxVersion: ApiVersion;
  readonly requestTimeoutMs?: number;
}

/** One request: method, query, headers; `key` for a download names it in the path. */
export interface Call {
  readonly method: "GET" | "POST";
  readonly query: ApiQuery;
  readonly headers?: Record<string, string>;
  readonly keyInPath?: ApiTarget["key"];
  /** How long to wait for the answer (ms; the client's requestTimeoutMs still bounds it). */
  readonly answerTimeoutMs?: number;
  /**
   * For a request that may be repeated (a GET): one whose answer did not
   * begin in time is sent again while this budget, shared by every request
   * of one download, lasts. Default: never sent again.
   */
  readonly retryBudget?: RetryBudget;
}

/** Further requests one download may still make. */
export interface RetryBudget {
  /** Further GETs of any kind: continuations and re-sends. */
  left: number;
  /**
   * Of those, re-sends of a GET left unanswered: once, so that a node
   * that never answers costs a caller with other holders two stall
   * timeouts, not four.
   */
  resends: number;
}

/** The budget of one download that may make `continuations` further GETs. */
export function retryBudget(continuations: number): RetryBudget {
  return { left: continuations, resends: Math.min(1, continuations) };
}

/** A non-200 answer: the server said no. */
export function statusError(
  op: Operation,
  version: ApiVersion,
  status: number,
  body: string,
): PeerRefusedError {
  return new PeerRefusedError(
    `p2phttp ${op} (v${version}) answered ${status}: ${body.slice(0, 200)}`,
    { operation: op, version, status, body: body.slice(0, 4096) },
  );
}

/** A connection error of a kept-alive socket the server had closed. */
function isStaleSocket(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED";
}

/** True when the answer means "this server does not serve this version". */
function isVersionMissError(e: unknown): boolean {
  if (!(e instanceof PeerRefusedError)) return false;
  return isVersionMiss(Number(e.data.status), String(e.data.body ?? ""));
}

/** The whole (small) body of an answer; too long is a protocol violation, a break is unreachable. */
export async function readBody(res: IncomingMessage, limit = MAX_JSON_BYTES): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        throw new PeerProtocolError("p2phttp answer too long", { limit });
      }
      parts.push(chunk);
    }
  } catch (e) {
    if (e instanceof PeerError) throw e;
    throw new PeerUnreachableError("p2phttp answer broken off", {}, e);
  }
  return Buffer.concat(parts).toString("utf8");
}

/**
 * The response to a request. The error listener stays on for the request's
 * whole life, so a socket that breaks after the answer is not an uncaught
 * error (the response stream reports it to whoever reads the body).
 */
export function responseOf(creq: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    creq.once("response", resolve);
    creq.on("error", reject);
  });
}

export class HttpClient {
  readonly endpoint: P2pHttpEndpoint;
  readonly #agent: HttpAgent;
  readonly lockAgent: HttpAgent;
  readonly #authHeader: string | undefined;
  readonly #versions: VersionFallback;
  #closed = false;

  readonly #opts: ClientOptions;
  constructor(opts: ClientOptions) {
    this.#opts = opts;
    this.endpoint = opts.endpoint;
    const agentOpts = { keepAlive: true, scheduling: "lifo" as const };
    const make = (maxSockets: number): HttpAgent =>
      this.endpoint.secure
        ? new HttpsAgent({ ...agentOpts, ...opts.tls, maxSockets })
        : new PlainAgent({ ...agentOpts, maxSockets });
    this.#agent = make(opts.maxSockets);
    this.lockAgent = make(opts.maxLockSockets);
    this.#authHeader =
      opts.auth === undefined ? undefined : basicAuthHeader(opts.auth.user, opts.auth.password);
    this.#versions = new VersionFallback(
      opts.maxVersion,
      isVersionMissError,
      (op, v) =>
        new PeerRefusedError(`the server has no p2phttp ${op} at v${v} or below`, {
          operation: op,
          version: v,
          unsupported: true,
        }),
    );
  }

  /** The version in use (the highest the server has been seen to serve). */
  get version(): ApiVersion {
    return this.#versions.version;
  }

  /** True once a request has settled which version the server serves. */
  get confirmed(): boolean {
    return this.#versions.confirmed;
  }

  /**
   * Close the kept-alive connections not in use: after a stall, the others
   * to the same server are no better (and a server that recovers may close
   * them under the next request).
   */
  dropIdle(): void {
    for (const sockets of Object.values(this.#agent.freeSockets)) {
      for (const s of sockets ?? []) s.destroy();
    }
  }

  close(): void {
    this.#closed = true;
    this.#agent.destroy();
    this.lockAgent.destroy();
  }

  /**
   * Try `op` at the highest version it and the server have, then lower ones
   * while the server answers 404 or 400 "bad version" (as git-annex's client
   * falls back); the version that works is remembered.
   */
  withVersions<T>(op: Operation, attempt: (v: ApiVersion) => Promise<T>): Promise<T> {
    return this.#versions.run(op, attempt);
  }

  /**
   * A JSON request without a body, its answer read by `parse` (a protocol/
   * parser). The context's signal does not break the request off: stock
   * git annex p2phttp (10.20250416) hands its P2P connections out from one
   * thread per repository, and a request whose connection breaks while its
   * worker runs leaves that thread waiting, so every later request to the
   * repository hangs. The answer is awaited instead, bounded by
   * `answerTimeoutMs` and the client's request timeout.
   */
  json<T>(
    op: Operation,
    ctx: PeerContext | undefined,
    query: ApiQuery,
    parse: (text: string) => T,
    answerTimeoutMs?: number,
  ): Promise<T> {
    const { signal: _notBreakingOff, ...unsignalled } = ctx ?? {};
    return this.withVersions(op, async (v) => {
      const res = await this.exchange(v, op, unsignalled, {
        method: "POST",
        query,
        headers: { "content-length": "0" },
        ...(answerTimeoutMs !== undefined ? { answerTimeoutMs } : {}),
      });
      return this.answer(op, v, res, parse);
    });
  }

  /** Read a JSON answer: non-200 is a refusal, a malformed answer a protocol error. */
  async answer<T>(
    op: Operation,
    v: ApiVersion,
    res: IncomingMessage,
    parse: (text: string) => T,
  ): Promise<T> {
    const body = await readBody(res);
    if (res.statusCode !== 200) throw statusError(op, v, res.statusCode ?? 0, body);
    try {
      return parse(body);
    } catch (e) {
      if (!(e instanceof HttpAnswerError)) throw e;
      throw new PeerProtocolError(
        `p2phttp ${op} answered badly: ${e.message}`,
        { operation: op, version: v, body: body.slice(0, 200) },
        e,
      );
    }
  }

  /**
   * A request without a body, and its response. A kept-alive connection
   * that the server closed meanwhile fails before the request reaches the
   * server; such a request is sent once more on a fresh connection. One
   * left unanswered past its own `answerTimeoutMs` (not the client's
   * overall bound) is sent again, on a fresh connection, while
   * `call.retryBudget` allows.
   */
  async exchange(
    v: ApiVersion,
    op: Operation,
    ctx: PeerContext | undefined,
    call: Call,
  ): Promise<IncomingMessage> {
    let staleRetried = false;
    for (;;) {
      const creq = this.open(v, op, ctx, call);
      let unanswered = false;
      creq.end();
      // The shorter of the call's own bound (a stall) and the client's.
      const bounds = [call.answerTimeoutMs, this.#opts.requestTimeoutMs].filter(
        (t): t is number => t !== undefined,
      );
      const limit = bounds.length === 0 ? undefined : Math.min(...bounds);
      const resendable = call.retryBudget !== undefined && limit === call.answerTimeoutMs;
      const timer =
        limit === undefined
          ? undefined
          : setTimeout(() => {
              unanswered = true;
              creq.destroy(
                new PeerUnreachableError(`no answer within ${limit} ms`, { operation: op }),
              );
            }, limit);
      try {
        return await responseOf(creq);
      } catch (e) {
        if (ctx?.signal?.aborted) throw this.unreachable(op, v, e);
        if (!staleRetried && creq.reusedSocket && isStaleSocket(e)) {
          staleRetried = true;
          continue;
        }
        const budget = call.retryBudget;
        if (unanswered && resendable && budget && budget.left > 0 && budget.resends > 0) {
          budget.left--;
          budget.resends--;
          // The connections kept from before the silence are no better.
          this.dropIdle();
          continue;
        }
        throw this.unreachable(op, v, e);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** No answer to a request (connection refused, reset, timed out, aborted). */
  unreachable(op: Operation, v: ApiVersion, cause: unknown): PeerUnreachableError {
    const { hostname, port } = this.endpoint;
    return new PeerUnreachableError(
      `p2phttp ${op} to ${hostname}:${port} failed: ${(cause as Error)?.message ?? String(cause)}`,
      { operation: op, version: v },
      cause,
    );
  }

  /** Start a request (the caller sends the body, if any, and ends it). */
  open(
    v: ApiVersion,
    op: Operation,
    ctx: PeerContext | undefined,
    call: Call,
    agent: HttpAgent = this.#agent,
  ): ClientRequest {
    if (this.#closed) throw new PeerError("peer is closed", { uuid: this.#opts.uuid });
    const target: ApiTarget = {
      uuid: this.#opts.uuid,
      version: v,
      operation: op,
      ...(call.keyInPath !== undefined ? { key: call.keyInPath } : {}),
    };
    const path = formatApiRequest(this.endpoint.prefix, target, {
      ...call.query,
      clientUuid: ctx?.clientUuid ?? this.#opts.clientUuid,
      ...(ctx?.bypass !== undefined ? { bypass: ctx.bypass } : {}),
    });
    const headers: Record<string, string> = { ...call.headers };
    if (this.#authHeader !== undefined) headers.authorization = this.#authHeader;
    if (ctx?.requestId !== undefined) headers[REQUEST_ID_HEADER] = ctx.requestId;
    const options = {
      method: call.method,
      hostname: this.endpoint.hostname,
      port: this.endpoint.port,
      path,
      headers,
      agent,
      ...(ctx?.signal !== undefined ? { signal: ctx.signal } : {}),
    };
    return this.endpoint.secure ? httpsRequest(options) : request(options);
  }
}
