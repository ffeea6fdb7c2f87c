/**
 * The p2phttp API's shapes, shared by the HTTP server and the HTTP client
 * Peer: operations and the versions that serve them, header names, and the
 * routing of request paths. Values are in http-values.ts, JSON answers in
 * http-answers.ts, URLs and request paths as a client forms them in
 * http-request.ts.
 */
import { AnnexgateError } from "../errors.js";
import { concatBytes, utf8Bytes } from "./bytes.js";
import { decodeLenientText } from "./wire-text.js";

export const DEFAULT_P2PHTTP_PORT = 9417;
export const DATA_LENGTH_HEADER = "x-git-annex-data-length";
/**
 * annexgate's own header (git-annex neither sends nor reads it): the id of
 * a request, in every answer, and sent by a gateway to the nodes it calls
 * for that request, so one id can be followed through every log.
 */
export const REQUEST_ID_HEADER = "x-request-id";
export const JSON_CONTENT_TYPE = "application/json;charset=utf-8";
export const AUTH_REALM_HEADER = 'Basic realm="git-annex", charset="UTF-8"';

export type ApiVersion = 0 | 1 | 2 | 3 | 4;

export type Operation =
  | "key"
  | "checkpresent"
  | "lockcontent"
  | "keeplocked"
  | "remove"
  | "remove-before"
  | "gettimestamp"
  | "put"
  | "putoffset";

/** Which versions serve each operation (git-annex's P2PHttpAPI). */
export const OPERATION_VERSIONS: Readonly<Record<Operation, readonly ApiVersion[]>> = {
  key: [0, 1, 2, 3, 4],
  checkpresent: [0, 1, 2, 3, 4],
  lockcontent: [0, 1, 2, 3, 4],
  keeplocked: [0, 1, 2, 3, 4],
  remove: [0, 1, 2, 3, 4],
  "remove-before": [3, 4],
  gettimestamp: [3, 4],
  put: [0, 1, 2, 3, 4],
  putoffset: [1, 2, 3, 4],
};

/** The versions of `op` a client tries, highest first, none above `highest`. */
export function versionsToTry(op: Operation, highest: ApiVersion): ApiVersion[] {
  return OPERATION_VERSIONS[op].filter((v) => v <= highest).sort((a, b) => b - a);
}

/**
 * True when an answer means "this server does not serve this version" (404,
 * or 400 "bad version"): git-annex's client then tries the next lower one.
 */
export function isVersionMiss(status: number, body: string): boolean {
  return status === 404 || (status === 400 && /bad version/i.test(body));
}

/** The access an operation needs: decides what an auth mode allows. */
export type ActionClass = "read" | "write" | "remove" | "lock";

export const OPERATION_CLASS: Readonly<Record<Operation, ActionClass>> = {
  key: "read",
  checkpresent: "read",
  gettimestamp: "read",
  put: "write",
  putoffset: "write",
  remove: "remove",
  "remove-before": "remove",
  lockcontent: "lock",
  keeplocked: "lock",
};

/** A request the API does not accept; `status` is what git-annex answers. */
export class HttpApiError extends AnnexgateError {
  constructor(
    readonly status: number,
    message: string,
    data: Record<string, unknown> = {},
  ) {
    super("AG_HTTP_API", message, { status, ...data });
  }
}

/**
 * Decode a path segment or query value as warp does: `%XX` escapes with two
 * hex digits are decoded, any other `%` stays as it is (no "bad escape"
 * error); in a query, "+" is a space. Where warp turns bytes that are not
 * UTF-8 into U+FFFD (so two keys would read as one), they are kept here as
 * `decodeLenientText` keeps them, for the value decoders to refuse.
 */
function percentDecode(text: string, plusIsSpace: boolean): string {
  const plain = plusIsSpace ? text.replace(/\+/g, " ") : text;
  if (!plain.includes("%")) return plain;
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const m of plain.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    parts.push(utf8Bytes(plain.slice(last, m.index)));
    parts.push(Uint8Array.of(Number.parseInt(m[1] as string, 16)));
    last = m.index + 3;
  }
  parts.push(utf8Bytes(plain.slice(last)));
  return decodeLenientText(concatBytes(parts));
}

function decodePathSegment(segment: string): string {
  return percentDecode(segment, false);
}

/**
 * A query string (without "?") as name → values, in order, decoded as
 * `percentDecode` says. URLSearchParams is not used: it turns bytes that
 * are not UTF-8 into U+FFFD.
 */
export function parseApiQuery(search: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of search.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = percentDecode(eq < 0 ? pair : pair.slice(0, eq), true);
    const value = eq < 0 ? "" : percentDecode(pair.slice(eq + 1), true);
    const values = out.get(name);
    if (values === undefined) out.set(name, [value]);
    else values.push(value);
  }
  return out;
}

/** A routed request path. */
export type ApiPath =
  | { readonly kind: "generic-key"; readonly uuid: string; readonly key: string }
  | {
      readonly kind: "versioned";
      readonly uuid: string;
      readonly version: ApiVersion;
      readonly operation: Operation;
      /** Only for `key`: the key captured from the path. */
      readonly key?: string;
    };

const OPERATIONS = new Set<string>(Object.keys(OPERATION_VERSIONS));

/**
 * Route a URL path as git-annex's server does: unknown shapes are 404; a
 * known shape with a version the operation lacks is 400 "bad version".
 * Captured values are returned still encoded (decoding is the caller's, so
 * that errors come out in git-annex's order).
 */
export function routeApiPath(pathname: string): ApiPath {
  const parts = pathname.split("/");
  // servant drops one trailing empty segment: ".../checkpresent/" routes.
  if (parts.length > 3 && parts[parts.length - 1] === "") parts.pop();
  // "", "git-annex", uuid, ...
  if (parts[0] !== "" || parts[1] !== "git-annex" || parts.length < 4) {
    throw new HttpApiError(404, "not found");
  }
  const seg = parts.slice(2).map(decodePathSegment);
  const [uuid = "", second = "", third, fourth] = seg;
  if (seg.length === 3 && second === "key" && third !== undefined) {
    return { kind: "generic-key", uuid, key: third };
  }
  const expected = third === "key" ? 4 : 3;
  if (third === undefined || !OPERATIONS.has(third) || seg.length !== expected) {
    throw new HttpApiError(404, "not found");
  }
  const operation = third as Operation;
  // Only the exact text "v<N>" (git-annex's parseAPIVersion): "v04" is a bad version.
  const version = OPERATION_VERSIONS[operation].find((v) => second === `v${v}`);
  if (version === undefined) throw new HttpApiError(400, "bad version");
  return operation === "key" && fourth !== undefined
    ? { kind: "versioned", uuid, version, operation, key: fourth }
    : { kind: "versioned", uuid, version, operation };
}
