/**
 * annexgate's own extension of the p2phttp API, both directions: indirect
 * uploads. A client asks the gateway where to upload a key
 * (`POST <prefix><uuid>/annexgate/v1/upload-url?key=K&clientuuid=C
 * [&associatedfile=F]`); the gateway answers with presigned URLs of the
 * object store behind it (one PUT, or parts), or that it already has the
 * key, or that it offers no indirect upload here (then the client falls
 * back to a normal put). Once uploaded, the client sends the standard v4
 * `put?data-present=true`. Stock git-annex never asks this path; values
 * are encoded as the API encodes them (http-values.ts), answers are JSON
 * with fields sorted by name, as the API's own.
 *
 * Runs anywhere (no Node built-ins): the client library uses it too.
 */
import type { Key } from "../keys/portable.js";
import {
  countField,
  HttpAnswerError,
  jsonObject,
  parseAnswerObject,
  plusUuidsField,
} from "./answer-json.js";
import { utf8TextLossy } from "./bytes.js";
import { sortedJson } from "./http-answers.js";
import {
  decodeB64Value,
  decodeKeyValue,
  decodeUuidValue,
  encodeB64Value,
  encodeKeyValue,
} from "./http-values.js";
import { HttpApiError, parseApiQuery } from "./httpapi.js";

/** The path after `<prefix><uuid>/`. */
export const INDIRECT_UPLOAD_ENDPOINT = "annexgate/v1/upload-url";

/** What an upload-url request names. */
export interface IndirectUploadRequest {
  /** The repository asked: a proxied remote, or a cluster. */
  readonly uuid: string;
  readonly key: Key;
  readonly clientUuid: string;
  readonly associatedFile?: string;
}

/** One part of a multipart upload: `length` bytes of the object from `offset`, PUT to `url`. */
export interface IndirectPart {
  readonly offset: number;
  readonly length: number;
  readonly url: string;
}

/** The answers to an upload-url request. */
export type IndirectUploadAnswer =
  /** The target already has the key: nothing to upload. */
  | { readonly kind: "alreadyhave"; readonly plusUuids: readonly string[] }
  /** One PUT of the whole object to `url` (with `headers`), within `expires` seconds. */
  | {
      readonly kind: "put";
      readonly url: string;
      readonly expires: number;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** One PUT per part, within `expires` seconds. */
  | { readonly kind: "parts"; readonly parts: readonly IndirectPart[]; readonly expires: number }
  /**
   * No indirect upload (404: not for this target or key; 409: not now):
   * the client does a normal put instead.
   */
  | { readonly kind: "unavailable"; readonly status: 404 | 409; readonly reason: string };

/** `<prefix><uuid>/annexgate/v1/upload-url?key=K&clientuuid=C[&associatedfile=F]`. */
export function formatIndirectUploadRequest(prefix: string, r: IndirectUploadRequest): string {
  const params: [string, string][] = [
    ["key", encodeKeyValue(r.key)],
    ["clientuuid", encodeB64Value(r.clientUuid)],
  ];
  if (r.associatedFile !== undefined) {
    params.push(["associatedfile", encodeB64Value(r.associatedFile)]);
  }
  const qs = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
  const uuid = encodeURIComponent(encodeB64Value(r.uuid));
  return `${prefix}${uuid}/${INDIRECT_UPLOAD_ENDPOINT}?${qs}`;
}

const PATH = new RegExp(`^/git-annex/([^/]+)/${INDIRECT_UPLOAD_ENDPOINT}$`);

/**
 * Whether a request path is the upload-url endpoint (as the server routes
 * it: under `/git-annex/`).
 */
export function isIndirectUploadPath(pathname: string): boolean {
  return PATH.test(pathname);
}

/**
 * The request an upload-url path and query name; HttpApiError 400 (in the
 * API's wording) when a value is missing or malformed, 404 when the path
 * is not the endpoint.
 */
export function parseIndirectUploadRequest(
  pathname: string,
  search: string,
): IndirectUploadRequest {
  const m = PATH.exec(pathname);
  if (m === null) throw new HttpApiError(404, "not found");
  const uuid = decodeUuidValue(pathSegment(m[1] as string), "capture serveruuid");
  const q = parseApiQuery(search.startsWith("?") ? search.slice(1) : search);
  const first = (name: string): string | undefined => q.get(name)?.[0];
  const required = (name: string): string => {
    const v = first(name);
    if (v === undefined) throw new HttpApiError(400, `Query parameter ${name} is required`);
    return v;
  };
  const key = decodeKeyValue(required("key"), "query parameter key");
  const clientUuid = decodeUuidValue(required("clientuuid"), "query parameter clientuuid");
  const af = first("associatedfile");
  return {
    uuid,
    key,
    clientUuid,
    ...(af !== undefined ? { associatedFile: utf8TextLossy(decodeB64Value(af)) } : {}),
  };
}

/**
 * A path segment decoded as the API decodes one (`%XX` escapes; "+" is
 * itself): the query decoder, with the two characters it reads otherwise
 * escaped first.
 */
function pathSegment(segment: string): string {
  const escaped = segment.replace(/[+&]/g, (c) => (c === "+" ? "%2B" : "%26"));
  return parseApiQuery(`s=${escaped}`).get("s")?.[0] ?? "";
}

/** The HTTP status of an answer. */
export function indirectUploadStatus(a: IndirectUploadAnswer): number {
  return a.kind === "unavailable" ? a.status : 200;
}

/** The answer's JSON body, fields sorted by name at every level. */
export function indirectUploadJson(a: IndirectUploadAnswer): string {
  switch (a.kind) {
    case "alreadyhave":
      return sortedJson({
        alreadyhave: true,
        plusuuids: a.plusUuids.map((u) => encodeB64Value(u)),
      });
    case "put":
      return sortedJson({
        expires: a.expires,
        ...(a.headers !== undefined ? { headers: sortedObject(a.headers) } : {}),
        method: "PUT",
        url: a.url,
      });
    case "parts":
      return sortedJson({
        expires: a.expires,
        parts: a.parts.map((p) => ({ length: p.length, offset: p.offset, url: p.url })),
      });
    case "unavailable":
      return sortedJson({ indirect: false, reason: a.reason });
  }
}

function sortedObject(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k] as string;
  return out;
}

/** An absolute http(s) URL: the client fetches nothing else. */
function httpUrl(v: unknown): string {
  let protocol = "";
  try {
    // Not URL.canParse: browsers a few years old lack it.
    if (typeof v === "string") protocol = new URL(v).protocol;
  } catch {
    // not a URL
  }
  if (protocol === "http:" || protocol === "https:") return v as string;
  throw new HttpAnswerError('the answer has a bad "url"');
}

function headersOf(v: unknown): Readonly<Record<string, string>> {
  const o = jsonObject(v, '"headers"');
  for (const h of Object.values(o)) {
    if (typeof h !== "string") throw new HttpAnswerError('the answer has a bad "headers"');
  }
  return o as Readonly<Record<string, string>>;
}

function partsOf(v: unknown): IndirectPart[] {
  if (!Array.isArray(v) || v.length === 0) throw new HttpAnswerError('the answer has bad "parts"');
  let next = 0;
  return v.map((p) => {
    const part = jsonObject(p, "part");
    const offset = countField(part, "offset");
    const length = countField(part, "length");
    // Parts follow each other, from the first byte.
    if (offset !== next) throw new HttpAnswerError('the answer has "parts" out of order');
    next = offset + length;
    return { offset, length, url: httpUrl(part.url) };
  });
}

/**
 * Read an upload-url answer by its status and body, strictly. A 404 or
 * 409 whose body is not the extension's (a server without it answers a
 * plain 404) is "unavailable" too; any other status is an error for the
 * caller (HttpAnswerError with the status in `data`).
 */
export function parseIndirectUploadAnswer(status: number, text: string): IndirectUploadAnswer {
  if (status === 404 || status === 409) {
    let reason = "the server offers no indirect uploads";
    try {
      const json = parseAnswerObject(text);
      if (json.indirect === false && typeof json.reason === "string") reason = json.reason;
    } catch {
      // Not the extension's answer: the server does not know the path.
    }
    return { kind: "unavailable", status, reason };
  }
  if (status !== 200) {
    throw new HttpAnswerError(`upload-url answered ${status}`, {
      status,
      body: text.slice(0, 200),
    });
  }
  const json = parseAnswerObject(text);
  if (json.alreadyhave === true) return { kind: "alreadyhave", plusUuids: plusUuidsField(json) };
  if (json.parts !== undefined) {
    return { kind: "parts", parts: partsOf(json.parts), expires: countField(json, "expires") };
  }
  if (json.method !== "PUT") throw new HttpAnswerError('the answer has no "method" PUT');
  return {
    kind: "put",
    url: httpUrl(json.url),
    expires: countField(json, "expires"),
    ...(json.headers !== undefined ? { headers: headersOf(json.headers) } : {}),
  };
}
