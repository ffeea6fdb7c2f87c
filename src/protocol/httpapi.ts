/**
 * The p2phttp API's wire shapes, shared by the HTTP server and (later) the
 * HTTP client Peer: paths, versions, base64url `[...]` values, parameter
 * names, and the JSON results in the exact shape git-annex emits (Aeson
 * writes object fields sorted by name).
 */
import { AnnexgateError } from "../errors.js";

export const DEFAULT_P2PHTTP_PORT = 9417;
export const DATA_LENGTH_HEADER = "x-git-annex-data-length";
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

const B64URL_PADDED = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

/**
 * Decode a value that may be base64url-wrapped in square brackets, as
 * git-annex allows for keys, UUIDs and file names. Returns raw bytes.
 */
export function decodeB64Value(text: string): Buffer {
  if (text.length >= 2 && text.startsWith("[") && text.endsWith("]")) {
    const inner = text.slice(1, -1);
    // git-annex decodes with sandi's Base64Url: url alphabet, "=" padding
    // required. (sandi also lets a few oddities through, e.g. "ab==abcd";
    // no git-annex client sends those, so they are refused here.)
    if (!B64URL_PADDED.test(inner)) {
      throw new HttpApiError(400, "unable to base64 decode [] wrapped value", { text });
    }
    return Buffer.from(inner, "base64url");
  }
  return Buffer.from(text, "utf8");
}

/**
 * Encode a value for a URL: plain when it is UTF-8 and not bracketed, else
 * `[base64url]`, padded (git-annex refuses unpadded values).
 */
export function encodeB64Value(value: Buffer | string): string {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const text = bytes.toString("utf8");
  const roundTrips = Buffer.from(text, "utf8").equals(bytes);
  const bracketed = text.startsWith("[") && text.endsWith("]");
  if (roundTrips && !bracketed) return text;
  return `[${bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_")}]`;
}

/** Haskell's `isSpace`: ASCII white space and the Unicode space separators. */
const HS_SPACE = "[ \\t\\n\\r\\f\\v\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]*";
const HS_INTEGER = new RegExp(
  `^${HS_SPACE}((?:\\(${HS_SPACE})*)(-${HS_SPACE})?(?:0[xX]([0-9A-Fa-f]+)|0[oO]([0-7]+)|([0-9]+))${HS_SPACE}((?:\\)${HS_SPACE})*)$`,
);

/**
 * An integer as Haskell's `readMaybe` reads one, which is how git-annex
 * parses offsets, data lengths and timestamps: white space around tokens,
 * any number of balanced parentheses, a "-" sign, decimal, `0x` hex or
 * `0o` octal digits, no size limit. Undefined when it is not one.
 */
export function readHaskellInteger(text: string): bigint | undefined {
  const m = HS_INTEGER.exec(text);
  if (!m) return undefined;
  const count = (s: string | undefined, c: string) => (s ?? "").split(c).length - 1;
  if (count(m[1], "(") !== count(m[6], ")")) return undefined;
  const [hex, oct, dec] = [m[3], m[4], m[5]];
  const n =
    hex !== undefined
      ? BigInt(`0x${hex}`)
      : oct !== undefined
        ? BigInt(`0o${oct}`)
        : BigInt(dec ?? "");
  return m[2] !== undefined ? -n : n;
}

/**
 * Decode a path segment as warp does: `%XX` escapes with two hex digits are
 * decoded, any other `%` stays as it is, and bytes that are not UTF-8 become
 * U+FFFD (no "bad escape" error).
 */
function decodePathSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of segment.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    parts.push(Buffer.from(segment.slice(last, m.index), "utf8"));
    parts.push(Buffer.from([Number.parseInt(m[1] as string, 16)]));
    last = m.index + 3;
  }
  parts.push(Buffer.from(segment.slice(last), "utf8"));
  return Buffer.concat(parts).toString("utf8");
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

/** Serialize a JSON object with fields sorted by name, as Aeson does. */
export function sortedJson(value: Record<string, unknown>): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) sorted[k] = value[k];
  return JSON.stringify(sorted);
}

/** Versions whose results carry `plusuuids` (v2 and later). */
export function hasPlus(version: ApiVersion): boolean {
  return version >= 2;
}

export function presentJson(present: boolean): string {
  return sortedJson({ present });
}

export function removedJson(
  version: ApiVersion,
  removed: boolean,
  plus: readonly string[],
): string {
  return sortedJson(hasPlus(version) ? { removed, plusuuids: plus } : { removed });
}

export function storedJson(version: ApiVersion, stored: boolean, plus: readonly string[]): string {
  return sortedJson(hasPlus(version) ? { stored, plusuuids: plus } : { stored });
}

export function putOffsetJson(
  version: ApiVersion,
  r: { alreadyHave: true; plusUuids: readonly string[] } | { alreadyHave: false; offset: number },
): string {
  if (!r.alreadyHave) return sortedJson({ offset: r.offset });
  return sortedJson(
    hasPlus(version) ? { alreadyhave: true, plusuuids: r.plusUuids } : { alreadyhave: true },
  );
}

export function lockJson(locked: boolean, lockid?: string): string {
  return sortedJson(lockid === undefined ? { locked } : { locked, lockid });
}

export function timestampJson(timestamp: number): string {
  return sortedJson({ timestamp });
}
