/**
 * p2phttp requests as a client forms them: the annex+http(s) URL of a
 * server (parsed as git-annex's parseP2PHttpUrl does, and formatted back),
 * request paths and query strings. Every value goes through http-values.ts,
 * so what this formats is what routeApiPath and the value decoders read.
 */
import { AnnexgateError } from "../errors.js";
import type { Key } from "../keys/portable.js";
import { encodeB64Value, encodeKeyValue } from "./http-values.js";
import { type ApiVersion, DEFAULT_P2PHTTP_PORT, type Operation } from "./httpapi.js";

/** A URL that is not a p2phttp endpoint. */
export class HttpUrlError extends AnnexgateError {
  constructor(url: string, cause?: unknown) {
    super("AG_HTTP_URL", `not a p2phttp URL: ${url.slice(0, 200)}`, { url }, cause);
  }
}

/** Where a p2phttp server is. */
export interface P2pHttpEndpoint {
  readonly secure: boolean;
  /** Without IPv6 brackets. */
  readonly hostname: string;
  readonly port: number;
  /** The path requests go under; ends with "/git-annex/". */
  readonly prefix: string;
}

/**
 * `annex+http://HOST[:PORT]/[PATH/][git-annex[/]]` (port 9417 when none is
 * given), or the same with `annex+https`, `http` or `https`. As in
 * git-annex, the trailing `git-annex` segment is optional: requests always
 * go to `<path>/git-annex/<uuid>/...`.
 *
 * @example
 * parseP2pHttpUrl("annex+http://example.com/git-annex/").prefix // "/git-annex/"
 */
export function parseP2pHttpUrl(url: string): P2pHttpEndpoint {
  const plain = url.startsWith("annex+") ? url.slice("annex+".length) : url;
  let u: URL;
  try {
    u = new URL(plain);
  } catch (e) {
    throw new HttpUrlError(url, e);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new HttpUrlError(url);
  const segments = u.pathname.split("/").filter((s) => s !== "");
  if (segments[segments.length - 1] === "git-annex") segments.pop();
  const base = segments.length === 0 ? "/" : `/${segments.join("/")}/`;
  return {
    secure: u.protocol === "https:",
    hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: explicitPort(plain) ?? DEFAULT_P2PHTTP_PORT,
    prefix: `${base}git-annex/`,
  };
}

const AUTHORITY_PORT =
  /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]/?#]*\]|[^:/?#]*):([0-9]+)(?:[/?#]|$)/;

/**
 * The port written in the URL. WHATWG URL drops a scheme's default port
 * (`http://h:80/` has port ""), but git-annex takes what is written, and
 * only a URL with no port at all gets 9417.
 */
function explicitPort(url: string): number | undefined {
  const digits = AUTHORITY_PORT.exec(url)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

/** The annex+http(s) URL of an endpoint; parseP2pHttpUrl reads it back. */
export function formatP2pHttpUrl(e: P2pHttpEndpoint): string {
  const host = e.hostname.includes(":") ? `[${e.hostname}]` : e.hostname;
  return `annex+${e.secure ? "https" : "http"}://${host}:${e.port}${e.prefix}`;
}

/** What a request path names. */
export interface ApiTarget {
  /** The repository served. */
  readonly uuid: string;
  readonly version: ApiVersion;
  readonly operation: Operation;
  /** For `key` (a download): the key, as the last path segment. */
  readonly key?: Key;
}

/** `<prefix><uuid>/v<N>/<operation>[/<key>]`, each value encoded. */
export function formatApiPath(prefix: string, t: ApiTarget): string {
  const seg = (text: string) => encodeURIComponent(text);
  const keySegment = t.key !== undefined ? `/${seg(encodeKeyValue(t.key))}` : "";
  return `${prefix}${seg(encodeB64Value(t.uuid))}/v${t.version}/${t.operation}${keySegment}`;
}

/** A request's query parameters, as the operations name them. */
export interface ApiQuery {
  readonly key?: Key;
  readonly clientUuid?: string;
  /** Sent from v2 on only (older servers do not know it). */
  readonly bypass?: readonly string[];
  readonly associatedFile?: string;
  readonly offset?: number;
  readonly timestamp?: number;
  readonly lockId?: string;
  readonly dataPresent?: boolean;
}

/** The query string (without "?"; empty when there is nothing to send). */
export function formatApiQuery(version: ApiVersion, q: ApiQuery): string {
  const params: Array<readonly [string, string]> = [];
  if (q.dataPresent !== undefined) params.push(["data-present", String(q.dataPresent)]);
  if (q.key !== undefined) params.push(["key", encodeKeyValue(q.key)]);
  if (q.associatedFile !== undefined) {
    params.push(["associatedfile", encodeB64Value(q.associatedFile)]);
  }
  if (q.offset !== undefined) params.push(["offset", String(q.offset)]);
  if (q.timestamp !== undefined) params.push(["timestamp", String(q.timestamp)]);
  if (q.lockId !== undefined) params.push(["lockid", encodeB64Value(q.lockId)]);
  if (q.clientUuid !== undefined) params.push(["clientuuid", encodeB64Value(q.clientUuid)]);
  if (version >= 2) for (const b of q.bypass ?? []) params.push(["bypass", encodeB64Value(b)]);
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

/** Path and query together. */
export function formatApiRequest(prefix: string, target: ApiTarget, query: ApiQuery): string {
  const qs = formatApiQuery(target.version, query);
  return `${formatApiPath(prefix, target)}${qs === "" ? "" : `?${qs}`}`;
}
