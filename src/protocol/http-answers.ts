/**
 * The p2phttp API's JSON answers, both ways: the server formats them in the
 * exact shape git-annex emits (Aeson writes object fields sorted by name),
 * the HTTP client Peer parses them, strictly (every byte from the network
 * is hostile). UUIDs inside answers (plusuuids, lockid) are B64UUIDs in
 * git-annex: plain text, or `[base64url]` when they would not read back.
 */
import {
  boolField,
  countField,
  HttpAnswerError,
  parseAnswerObject,
  plusUuidsField,
  uuidValue,
} from "./answer-json.js";
import { encodeB64Value } from "./http-values.js";
import type { ApiVersion } from "./httpapi.js";

export { HttpAnswerError };

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

export function parsePresentJson(text: string): PresentAnswer {
  return { present: boolField(parseAnswerObject(text), "present") };
}

export function parseRemovedJson(text: string): RemovedAnswer {
  const json = parseAnswerObject(text);
  return { removed: boolField(json, "removed"), plusUuids: plusUuidsField(json) };
}

export function parseStoredJson(text: string): StoredAnswer {
  const json = parseAnswerObject(text);
  return { stored: boolField(json, "stored"), plusUuids: plusUuidsField(json) };
}

export function parsePutOffsetJson(text: string): PutOffsetAnswer {
  const json = parseAnswerObject(text);
  if (json.alreadyhave === true) return { alreadyHave: true, plusUuids: plusUuidsField(json) };
  return { alreadyHave: false, offset: countField(json, "offset") };
}

export function parseLockJson(text: string): LockAnswer {
  const json = parseAnswerObject(text);
  if (!boolField(json, "locked")) return { locked: false };
  return { locked: true, lockId: uuidValue(json.lockid, "lockid") };
}

export function parseTimestampJson(text: string): number {
  return countField(parseAnswerObject(text), "timestamp");
}

/** One line of a keeplocked body: true when it asks to unlock; throws when malformed. */
export function parseUnlockJson(line: string): boolean {
  return parseAnswerObject(line).unlock === true;
}
