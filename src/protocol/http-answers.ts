/**
 * The p2phttp API's JSON answers, both ways: the server formats them in the
 * exact shape git-annex emits (Aeson writes object fields sorted by name),
 * the HTTP client Peer parses them, strictly (every byte from the network
 * is hostile). UUIDs inside answers (plusuuids, lockid) are B64UUIDs in
 * git-annex: plain text, or `[base64url]` when they would not read back.
 */
import { AnnexgateError } from "../errors.js";
import { utf8TextLossy } from "./bytes.js";
import { decodeB64Value, encodeB64Value } from "./http-values.js";
import type { ApiVersion } from "./httpapi.js";

/** An answer that is not what the API says (bad JSON, a missing or mistyped field). */
export class HttpAnswerError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_HTTP_ANSWER", message, data, cause);
  }
}

export interface PresentAnswer {
  readonly present: boolean;
}
export interface RemovedAnswer {
  readonly removed: boolean;
  readonly plusUuids: readonly string[];
}
export interface StoredAnswer {
  readonly stored: boolean;
  readonly plusUuids: readonly string[];
}
export type PutOffsetAnswer =
  | { readonly alreadyHave: true; readonly plusUuids: readonly string[] }
  | { readonly alreadyHave: false; readonly offset: number };
export type LockAnswer =
  | { readonly locked: false }
  | { readonly locked: true; readonly lockId: string };

const NO_UUIDS: readonly string[] = [];

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

const uuidList = (uuids: readonly string[]) => uuids.map((u) => encodeB64Value(u));

export function presentJson(present: boolean): string {
  return sortedJson({ present });
}

export function removedJson(
  version: ApiVersion,
  removed: boolean,
  plus: readonly string[],
): string {
  return sortedJson(hasPlus(version) ? { removed, plusuuids: uuidList(plus) } : { removed });
}

export function storedJson(version: ApiVersion, stored: boolean, plus: readonly string[]): string {
  return sortedJson(hasPlus(version) ? { stored, plusuuids: uuidList(plus) } : { stored });
}

export function putOffsetJson(version: ApiVersion, r: PutOffsetAnswer): string {
  if (!r.alreadyHave) return sortedJson({ offset: r.offset });
  return sortedJson(
    hasPlus(version)
      ? { alreadyhave: true, plusuuids: uuidList(r.plusUuids) }
      : { alreadyhave: true },
  );
}

export function lockJson(locked: boolean, lockid?: string): string {
  return sortedJson(lockid === undefined ? { locked } : { locked, lockid: encodeB64Value(lockid) });
}

export function timestampJson(timestamp: number): string {
  return sortedJson({ timestamp });
}

/** One line of a keeplocked request body (newline-terminated). */
export function unlockJson(unlock: boolean): string {
  return `${JSON.stringify({ unlock })}\n`;
}

type Json = Readonly<Record<string, unknown>>;

function parseObject(text: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HttpAnswerError("the answer is not JSON", { body: text.slice(0, 200) }, e);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new HttpAnswerError("the answer is not a JSON object", { body: text.slice(0, 200) });
  }
  return json as Json;
}

function bool(json: Json, name: string): boolean {
  const v = json[name];
  if (typeof v !== "boolean") throw new HttpAnswerError(`the answer lacks boolean "${name}"`);
  return v;
}

/** A count of bytes or seconds: a safe non-negative integer. */
function count(json: Json, name: string): number {
  const v = json[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new HttpAnswerError(`the answer lacks a non-negative integer "${name}"`);
  }
  return v;
}

function uuid(v: unknown, name: string): string {
  if (typeof v !== "string") throw new HttpAnswerError(`the answer has a bad "${name}"`);
  let bytes: Uint8Array;
  try {
    bytes = decodeB64Value(v);
  } catch (e) {
    throw new HttpAnswerError(`the answer has a bad "${name}"`, {}, e);
  }
  if (bytes.length === 0) throw new HttpAnswerError(`the answer has an empty "${name}"`);
  return utf8TextLossy(bytes);
}

/** `plusuuids`: absent or null before v2 (and allowed so after), else a list of UUIDs. */
function plusUuids(json: Json): readonly string[] {
  const v = json.plusuuids;
  if (v === undefined || v === null) return NO_UUIDS;
  if (!Array.isArray(v)) throw new HttpAnswerError('the answer has a bad "plusuuids"');
  return v.map((u) => uuid(u, "plusuuids"));
}

export function parsePresentJson(text: string): PresentAnswer {
  return { present: bool(parseObject(text), "present") };
}

export function parseRemovedJson(text: string): RemovedAnswer {
  const json = parseObject(text);
  return { removed: bool(json, "removed"), plusUuids: plusUuids(json) };
}

export function parseStoredJson(text: string): StoredAnswer {
  const json = parseObject(text);
  return { stored: bool(json, "stored"), plusUuids: plusUuids(json) };
}

export function parsePutOffsetJson(text: string): PutOffsetAnswer {
  const json = parseObject(text);
  if (json.alreadyhave === true) return { alreadyHave: true, plusUuids: plusUuids(json) };
  return { alreadyHave: false, offset: count(json, "offset") };
}

export function parseLockJson(text: string): LockAnswer {
  const json = parseObject(text);
  if (!bool(json, "locked")) return { locked: false };
  return { locked: true, lockId: uuid(json.lockid, "lockid") };
}

export function parseTimestampJson(text: string): number {
  return count(parseObject(text), "timestamp");
}

/** One line of a keeplocked body: true when it asks to unlock; throws when malformed. */
export function parseUnlockJson(line: string): boolean {
  return parseObject(line).unlock === true;
}
