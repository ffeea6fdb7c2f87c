/**
 * Reading the p2phttp API's JSON answers strictly (every byte from the
 * network is hostile): the readers both the API's answers (http-answers.ts)
 * and annexgate's extension (http-indirect.ts) are made of. Internal to the
 * protocol layer.
 */
import { AnnexgateError } from "../errors.js";
import { utf8TextLossy } from "./bytes.js";
import { decodeB64Value } from "./http-values.js";

/** An answer that is not what the API says (bad JSON, a missing or mistyped field). */
export class HttpAnswerError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_HTTP_ANSWER", message, data, cause);
  }
}

export type AnswerJson = Readonly<Record<string, unknown>>;

const NO_UUIDS: readonly string[] = [];

/** `v` as a JSON object; `what` names it in the error. */
export function jsonObject(v: unknown, what: string): AnswerJson {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new HttpAnswerError(`the ${what} is not a JSON object`);
  }
  return v as AnswerJson;
}

/** A whole answer: JSON, and an object. */
export function parseAnswerObject(text: string): AnswerJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HttpAnswerError("the answer is not JSON", { body: text.slice(0, 200) }, e);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new HttpAnswerError("the answer is not a JSON object", { body: text.slice(0, 200) });
  }
  return json as AnswerJson;
}

export function boolField(json: AnswerJson, name: string): boolean {
  const v = json[name];
  if (typeof v !== "boolean") throw new HttpAnswerError(`the answer lacks boolean "${name}"`);
  return v;
}

/** A count of bytes or seconds: a safe non-negative integer. */
export function countField(json: AnswerJson, name: string): number {
  const v = json[name];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new HttpAnswerError(`the answer lacks a non-negative integer "${name}"`);
  }
  return v;
}

/** A UUID in an answer: a B64UUID (plain, or `[base64url]`), never empty. */
export function uuidValue(v: unknown, name: string): string {
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
export function plusUuidsField(json: AnswerJson): readonly string[] {
  const v = json.plusuuids;
  if (v === undefined || v === null) return NO_UUIDS;
  if (!Array.isArray(v)) throw new HttpAnswerError('the answer has a bad "plusuuids"');
  return v.map((u) => uuidValue(u, "plusuuids"));
}
