/**
 * @module
 * Text from the network, both wires: one strict decoder for the values that
 * name things (keys, UUIDs), and one lenient decoder for a whole line or a
 * free-text field, where git-annex too takes any bytes.
 *
 * git-annex keys are bytes. annexgate keeps keys as strings, so a key that
 * is not UTF-8 could only be kept by rewriting it, and two such keys would
 * then collapse into one object and one location-log entry. So a name that
 * is not UTF-8 is refused, on HTTP and on the line protocol alike, and never
 * decoded lossily.
 */
import { AnnexgateError } from "../errors.js";
import { concatBytes, utf8Bytes } from "./bytes.js";

/** Bytes that are not UTF-8 where text was required; `data.what` names the value. */
export class WireTextError extends AnnexgateError {
  constructor(what: string, offset: number) {
    super("AG_WIRE_TEXT", `${what} is not valid UTF-8`, { what, offset });
  }
}

/** What a peer is told about a key that is not UTF-8, on either wire. */
export const KEY_NOT_UTF8 = "key is not valid UTF-8";

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decode bytes that must be UTF-8 (a key, a UUID). `what` names the value
 * in the error ("key", "query parameter key").
 *
 * @throws WireTextError when a byte is not part of a well-formed sequence
 * @example
 * decodeWireText(new TextEncoder().encode("WORM--a"), "key") // "WORM--a"
 */
export function decodeWireText(bytes: Uint8Array, what: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new WireTextError(what, firstInvalidByte(bytes));
  }
}

/**
 * Decode bytes that need not be UTF-8 (a protocol line, an associated file):
 * UTF-8, except that each byte that is not part of a well-formed sequence
 * becomes a lone surrogate U+DC80–U+DCFF, as GHC's "roundtrip" encoding
 * (which git-annex uses for its handles) does. Nothing is lost: the name
 * fields of a line are checked again (`isWellFormedText`, `parseKey`), so a
 * key with such bytes is refused rather than read as another key; text
 * fields turn them into U+FFFD.
 */
export function decodeLenientText(bytes: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return decodeRoundtrip(bytes);
  }
}

/**
 * The bytes `decodeLenientText` read `text` from: UTF-8, except that lone
 * surrogates U+DC80–U+DCFF become the single bytes they stand for. (Other
 * lone surrogates cannot come from decodeLenientText; they become U+FFFD.)
 */
export function encodeLenientText(text: string): Uint8Array {
  if (isWellFormedText(text)) return utf8Bytes(text);
  const parts: Uint8Array[] = [];
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    parts.push(
      ch.length === 1 && c >= 0xdc80 && c <= 0xdcff ? Uint8Array.of(c - 0xdc00) : utf8Bytes(ch),
    );
  }
  return concatBytes(parts);
}

/** True when `text` came from UTF-8 bytes (it holds no lone surrogate). */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

const LONE_SURROGATE = /\p{Cs}/u;

/** The index of the first byte that breaks UTF-8 (bytes.length when none does). */
function firstInvalidByte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    if (n === 0) return i;
    i += n;
  }
  return b.length;
}

/** The length of the well-formed UTF-8 sequence at `i`, or 0 when there is none. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return 1;
  let need = 0;
  let cp = 0;
  let min = 0;
  if (c >= 0xc2 && c <= 0xdf) [need, cp, min] = [1, c & 0x1f, 0x80];
  else if (c >= 0xe0 && c <= 0xef) [need, cp, min] = [2, c & 0x0f, 0x800];
  else if (c >= 0xf0 && c <= 0xf4) [need, cp, min] = [3, c & 0x07, 0x10000];
  else return 0;
  for (let k = 1; k <= need; k++) {
    const d = b[i + k];
    if (d === undefined || (d & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  const ok = cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
  return ok ? need + 1 : 0;
}

function decodeRoundtrip(b: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + (b[i] ?? 0));
      i++;
    } else {
      out += STRICT_UTF8.decode(b.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}
