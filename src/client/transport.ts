/**
 * The client's HTTP side, over `fetch` alone (Node 20 and browsers alike):
 * request URLs and answers through the protocol layer's codec, basic auth,
 * the API version in use and git-annex's fallback to lower ones, and the
 * one place where fetch outcomes become the library's errors.
 */
import {
  type ApiQuery,
  type ApiTarget,
  type ApiVersion,
  basicAuthHeader,
  concatBytes,
  formatApiRequest,
  HttpAnswerError,
  HttpUrlError,
  isVersionMiss,
  type Operation,
  type P2pHttpEndpoint,
  parseP2pHttpUrl,
  utf8TextLossy,
  VersionFallback,
} from "../protocol/portable.js";
import {
  AbortedError,
  ClientError,
  ProtocolError,
  RefusedError,
  UnreachableError,
} from "./errors.js";
import { anySignal, timeoutSignal } from "./signals.js";
import { Slots } from "./slots.js";

/** The longest JSON answer read (the API's answers are a few hundred bytes). */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface TransportOptions {
  readonly url: string;
  readonly uuid: string;
  readonly clientUuid: string;
  readonly auth?: { readonly user: string; readonly password: string } | undefined;
  readonly maxVersion: ApiVersion;
  readonly fetch: typeof fetch;
  /** Bound on requests without a streamed body, from sending to the whole answer (ms). */
  readonly timeoutMs: number;
  /** Requests in flight at once (held locks aside). */
  readonly maxRequests: number;
}

/** What a request may carry: the body types both Node's fetch and browsers take. */
export type RequestBody = Blob | Uint8Array | ReadableStream<Uint8Array> | string;

/** One request: what `Transport.send` needs beyond the operation and version. */
export interface Exchange {
  readonly method: "GET" | "POST";
  readonly query: ApiQuery;
  readonly keyInPath?: ApiTarget["key"];
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody | null;
  readonly signal?: AbortSignal | undefined;
  /** False for a request whose body streams or whose answer is read slowly (no timeout). */
  readonly timed?: boolean;
}

export class Transport {
  readonly endpoint: P2pHttpEndpoint;
  readonly #origin: string;
  readonly #auth: string | undefined;
  readonly #opts: TransportOptions;
  /** Taken by each request from sending until its answer has been read. */
  readonly slots: Slots;
  readonly #versions: VersionFallback;

  constructor(opts: TransportOptions) {
    this.#opts = opts;
    try {
      this.endpoint = parseP2pHttpUrl(opts.url);
    } catch (e) {
      if (e instanceof HttpUrlError) throw new ClientError(e.message, { url: opts.url }, e);
      throw e;
    }
    const { secure, hostname, port } = this.endpoint;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    this.#origin = `${secure ? "https" : "http"}://${host}:${port}`;
    this.#auth =
      opts.auth === undefined ? undefined : basicAuthHeader(opts.auth.user, opts.auth.password);
    this.#versions = new VersionFallback(
      opts.maxVersion,
      (e) => e instanceof RefusedError && isVersionMiss(e.status ?? 0, String(e.data.body ?? "")),
      (op, v) =>
        new RefusedError(`the server has no p2phttp ${op} at v${v} or below`, {
          operation: op,
          version: v,
          unsupported: true,
        }),
    );
    this.slots = new Slots(opts.maxRequests);
  }

  /** The version in use: the highest the server has been seen to serve. */
  get version(): ApiVersion {
    return this.#versions.version;
  }

  get confirmed(): boolean {
    return this.#versions.confirmed;
  }

  /** The URL of an operation at a version (annexgate's extensions build theirs from `origin`). */
  url(v: ApiVersion, op: Operation, query: ApiQuery, keyInPath?: ApiTarget["key"]): string {
    const target: ApiTarget = {
      uuid: this.#opts.uuid,
      version: v,
      operation: op,
      ...(keyInPath !== undefined ? { key: keyInPath } : {}),
    };
    const path = formatApiRequest(this.endpoint.prefix, target, {
      ...query,
      clientUuid: this.#opts.clientUuid,
    });
    return `${this.#origin}${path}`;
  }

  /** The server's origin, `http(s)://host:port`. */
  get origin(): string {
    return this.#origin;
  }

  /** Headers every request carries (authorization), with `extra`. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.#auth === undefined ? { ...extra } : { ...extra, authorization: this.#auth };
  }

  /** Send a request to `url`; a failure to get an answer is UnreachableError or AbortedError. */
  async fetch(url: string, init: RequestInit & { timed?: boolean }): Promise<Response> {
    const { timed = true, signal, ...rest } = init;
    const combined = anySignal([
      signal ?? undefined,
      timed ? timeoutSignal(this.#opts.timeoutMs) : undefined,
    ]);
    try {
      return await this.#opts.fetch(url, {
        ...rest,
        ...(combined !== undefined ? { signal: combined } : {}),
      });
    } catch (e) {
      throw failure(url, e, signal ?? undefined);
    }
  }

  /** One request of an operation at a version. */
  send(v: ApiVersion, op: Operation, x: Exchange): Promise<Response> {
    const init: RequestInit & { timed?: boolean; duplex?: "half" } = {
      method: x.method,
      headers: this.headers(x.headers),
      // Uint8Array<ArrayBufferLike>: every fetch takes it, the DOM types want an ArrayBuffer view.
      body: (x.body ?? null) as NonNullable<RequestInit["body"]> | null,
      signal: x.signal ?? null,
      timed: x.timed ?? true,
    };
    if (x.body instanceof ReadableStream) init.duplex = "half";
    const url = this.url(v, op, x.query, x.keyInPath);
    const sent = this.fetch(url, init);
    if (!REPEATABLE.has(op) || (x.body ?? null) !== null) return sent;
    // A kept-alive connection the server closed meanwhile fails before the
    // request reaches it: such a request is sent once more.
    return sent.catch((e: unknown) => {
      if (!(e instanceof UnreachableError) || !closedUnderUs(e) || x.signal?.aborted) throw e;
      return this.fetch(url, init);
    });
  }

  /**
   * Try `op` at the highest version it and the server share, then lower
   * ones while the server answers that it lacks the version (as git-annex's
   * client does); the version that works is remembered.
   */
  withVersions<T>(op: Operation, attempt: (v: ApiVersion) => Promise<T>): Promise<T> {
    return this.#versions.run(op, attempt);
  }

  /** A bodiless POST whose JSON answer `parse` reads, at the versions the server serves. */
  json<T>(
    op: Operation,
    query: ApiQuery,
    parse: (text: string) => T,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.withVersions(op, async (v) => {
      const done = await this.slots.take(signal);
      try {
        const res = await this.send(v, op, { method: "POST", query, signal });
        return await this.answer(op, v, res, parse, signal);
      } finally {
        done();
      }
    });
  }

  /** Read a JSON answer: another status than 200 is RefusedError, a bad answer ProtocolError. */
  async answer<T>(
    op: Operation,
    v: ApiVersion,
    res: Response,
    parse: (text: string) => T,
    signal?: AbortSignal,
  ): Promise<T> {
    const body = await readText(res, signal);
    if (res.status !== 200) throw refused(op, v, res.status, body);
    try {
      return parse(body);
    } catch (e) {
      if (!(e instanceof HttpAnswerError)) throw e;
      throw new ProtocolError(
        `p2phttp ${op} answered badly: ${e.message}`,
        { operation: op, version: v, body: body.slice(0, 200) },
        e,
      );
    }
  }
}

/** Operations sent again when their connection turns out to have been closed (doing one twice is harmless). */
const REPEATABLE: ReadonlySet<Operation> = new Set<Operation>([
  "key",
  "checkpresent",
  "putoffset",
  "gettimestamp",
  "remove",
  "remove-before",
]);

/** True when a fetch failed because the server had closed the connection (Node's fetch says so). */
function closedUnderUs(e: UnreachableError): boolean {
  const code = (e.cause as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE";
}

/** A status other than 200, as RefusedError. */
export function refused(op: string, v: ApiVersion, status: number, body: string): RefusedError {
  return new RefusedError(`p2phttp ${op} (v${v}) answered ${status}: ${body.slice(0, 200)}`, {
    operation: op,
    version: v,
    status,
    body: body.slice(0, 4096),
  });
}

/** Why a fetch got no answer: the caller's abort, or the network. */
export function failure(url: string, e: unknown, signal: AbortSignal | undefined): ClientError {
  if (e instanceof ClientError) return e;
  if (signal?.aborted === true) return new AbortedError("aborted", {}, e);
  const where = url.replace(/\?.*$/, "");
  return new UnreachableError(`no answer from ${where}: ${(e as Error)?.message ?? e}`, {}, e);
}

/** A small answer's text, at most `limit` bytes (more is a protocol error). */
export async function readText(
  res: Response,
  signal?: AbortSignal,
  limit = MAX_ANSWER_BYTES,
): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw new ProtocolError("p2phttp answer too long", { limit });
      }
      parts.push(value);
    }
  } catch (e) {
    throw failure(res.url, e, signal);
  }
  return utf8TextLossy(concatBytes(parts));
}
