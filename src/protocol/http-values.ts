/**
 * The p2phttp API's values, both ways: base64url `[...]` wrapping of keys,
 * UUIDs and file names, and integers as git-annex reads them. The server
 * decodes with these; the HTTP client Peer encodes with them.
 */
import { formatKey, type Key, parseKey } from "../keys/portable.js";
import { readWholeInteger } from "../sizes/index.js";
import { base64UrlDecode, base64UrlEncode, bytesEqual, utf8Bytes, utf8TextLossy } from "./bytes.js";
import { HttpApiError } from "./httpapi.js";
import {
  decodeWireText,
  encodeLenientText,
  isWellFormedText,
  KEY_NOT_UTF8,
  WireTextError,
} from "./wire-text.js";

const B64URL_PADDED = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

/**
 * Decode a value that may be base64url-wrapped in square brackets, as
 * git-annex allows for keys, UUIDs and file names. Returns raw bytes.
 */
export function decodeB64Value(text: string): Uint8Array {
  if (text.length >= 2 && text.startsWith("[") && text.endsWith("]")) {
    const inner = text.slice(1, -1);
    // git-annex decodes with sandi's Base64Url: url alphabet, "=" padding
    // required. (sandi also lets a few oddities through, e.g. "ab==abcd";
    // no git-annex client sends those, so they are refused here.)
    if (!B64URL_PADDED.test(inner)) {
      throw new HttpApiError(400, "unable to base64 decode [] wrapped value", { text });
    }
    return base64UrlDecode(inner);
  }
  // Bytes of the URL that were not UTF-8 come back as they were sent.
  return encodeLenientText(text);
}

/**
 * Encode a value for a URL: plain when it is UTF-8 and not bracketed, else
 * `[base64url]`, padded (git-annex refuses unpadded values).
 */
export function encodeB64Value(value: Uint8Array | string): string {
  const bytes = typeof value === "string" ? utf8Bytes(value) : value;
  const text = utf8TextLossy(bytes);
  const roundTrips = bytesEqual(utf8Bytes(text), bytes);
  const bracketed = text.startsWith("[") && text.endsWith("]");
  if (roundTrips && !bracketed) return text;
  return `[${base64UrlEncode(bytes)}]`;
}

/** A key as a path segment or query value. */
export function encodeKeyValue(key: Key): string {
  return encodeB64Value(formatKey(key));
}

/**
 * A value that is its own text: not bracketed, and UTF-8 as sent (every
 * value an honest client sends). Decoding it to bytes and back would give
 * it unchanged; this is the common case, taken without the round trip.
 */
function plainText(text: string): string | null {
  if (text.startsWith("[") && text.endsWith("]") && text.length >= 2) return null;
  return isWellFormedText(text) ? text : null;
}

/** The bytes of a capture or parameter (a B64 value); 400 in git-annex's wording when it is not one. */
function captureBytes(text: string, what: string): Uint8Array {
  try {
    return decodeB64Value(text);
  } catch (e) {
    throw new HttpApiError(400, `Error parsing ${what} failed: ${(e as Error).message}`);
  }
}

/**
 * A key from a path capture or query parameter; 400 with git-annex's
 * wording (`what` names the capture, e.g. "query parameter key") when it
 * is not one.
 */
export function decodeKeyValue(text: string, what: string): Key {
  const keyText = plainText(text) ?? wireText(captureBytes(text, what), what, KEY_NOT_UTF8);
  try {
    return parseKey(keyText);
  } catch {
    throw new HttpApiError(400, `Error parsing ${what} failed: key parse error`);
  }
}

/*
 * Strict UTF-8 for a value that names something: stock git-annex would keep
 * the bytes, annexgate refuses them (see wire-text.ts), as a 400 in
 * git-annex's wording for a value it cannot parse.
 */
function wireText(bytes: Uint8Array, what: string, reason: string): string {
  try {
    return decodeWireText(bytes, what);
  } catch (e) {
    if (!(e instanceof WireTextError)) throw e;
    // Stock parses such a value, so its other checks (authorization among
    // them) come first: `afterAuth` tells the server to answer this later.
    throw new HttpApiError(400, `Error parsing ${what} failed: ${reason}`, { afterAuth: true });
  }
}

/** A UUID (server, client, bypass, lock id) from a capture or parameter; never empty. */
export function decodeUuidValue(text: string, what: string): string {
  const plain = plainText(text);
  if (plain === "") throw new HttpApiError(400, `Error parsing ${what} failed: empty UUID`);
  if (plain !== null) return plain;
  const bytes = captureBytes(text, what);
  if (bytes.length === 0) throw new HttpApiError(400, `Error parsing ${what} failed: empty UUID`);
  // As stock reads it (bytes that are not UTF-8 become U+FFFD): such a
  // UUID names no repository (404), and refusing it would answer otherwise.
  return utf8TextLossy(bytes);
}

/**
 * An offset, length or timestamp, read as git-annex reads it (Haskell's
 * `read`: parentheses, hex, a sign and any size are all accepted), clamped
 * to the safe integers. Negative values are the caller's to judge.
 */
export function decodeIntegerValue(text: string, what: string): number {
  const n = readWholeInteger(text);
  if (n === null) {
    throw new HttpApiError(400, `Error parsing ${what} failed: ${what} parse error`);
  }
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(n > max ? max : n < -max ? -max : n);
}
