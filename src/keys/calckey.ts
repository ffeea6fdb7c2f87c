/**
 * Computing a file's key as `git annex calckey` does (Backend/Hash.hs,
 * Backend/Utilities.hs): the content's hash under the backend, its size,
 * and for an E backend the extensions of the file's name as git-annex
 * selects them. What this computes, stock git-annex computes too
 * (test/interop/calckey.test.ts compares them). This module runs anywhere
 * (the browser client uses it): the hash comes from the caller, Node's in
 * calckey-node.ts, a portable one in the client.
 */
import { formatKey, type Key } from "./key.js";

/** git-annex's defaults: annex.maxextensionlength, annex.maxextensions. */
export const MAX_EXTENSION_LENGTH = 4;
export const MAX_EXTENSIONS = 2;

const DOT = 0x2e;

/** Backend/Utilities.hs validInExtension: ASCII letters and digits, and any byte past ASCII. */
function validInExtension(b: number): boolean {
  if (b >= 0x30 && b <= 0x39) return true;
  if ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a) return true;
  return b > 127;
}

/**
 * The extension an E backend puts on a key for a file named `fileName`
 * (a path; only its last part counts), with its leading dot, or "".
 * As git-annex: the last dotted parts of the name (a name's leading dots
 * are not a part), taken from the end while each is at most
 * `maxLength` bytes, those with other characters than letters and digits
 * dropped, at most `maxExtensions` of them.
 */
export function keyExtension(
  fileName: string,
  opts: { readonly maxLength?: number; readonly maxExtensions?: number } = {},
): string {
  const maxLength = opts.maxLength ?? MAX_EXTENSION_LENGTH;
  const maxExtensions = opts.maxExtensions ?? MAX_EXTENSIONS;
  const name = UTF8.encode(lastPart(fileName));
  let start = 0;
  while (start < name.length && name[start] === DOT) start++;
  const firstDot = name.indexOf(DOT, start);
  if (firstDot < 0) return "";
  // takeExtensions, split on ".": the empty part before the first dot first.
  const parts: Uint8Array[] = [];
  let from = firstDot + 1;
  parts.push(new Uint8Array(0));
  for (let i = from; i <= name.length; i++) {
    if (i === name.length || name[i] === DOT) {
      parts.push(name.subarray(from, i));
      from = i + 1;
    }
  }
  const fromEnd: Uint8Array[] = [];
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i] as Uint8Array;
    if (p.length > maxLength) break;
    fromEnd.push(p);
  }
  const chosen = fromEnd
    .filter((p) => p.every(validInExtension))
    .slice(0, maxExtensions)
    .reverse()
    .filter((p) => p.length > 0);
  if (chosen.length === 0) return "";
  return `.${chosen.map((p) => TEXT.decode(p)).join(".")}`;
}

const UTF8 = new TextEncoder();
// ignoreBOM: a U+FEFF in a name is part of it, as git-annex reads it.
const TEXT = new TextDecoder("utf-8", { ignoreBOM: true });

/* The last part of a path, as Node's posix basename takes it. */
function lastPart(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** A running hash: fed chunks, then asked once for its digest in lowercase hex. */
export interface KeyHasher {
  update(chunk: Uint8Array): void;
  hexDigest(): string;
}

/**
 * The key of `data` (all of it) under `backend` (SHA256E, SHA256, SHA512E,
 * SHA1, MD5E, SHA3_256E, BLAKE2B512E, …), hashed by `hasher` (made for that
 * backend), named for `fileName` when the backend keeps extensions.
 */
export async function calcKeyWith(
  hasher: KeyHasher,
  backend: string,
  data: AsyncIterable<Uint8Array>,
  fileName = "",
): Promise<Key> {
  let size = 0;
  for await (const chunk of data) {
    hasher.update(chunk);
    size += chunk.length;
  }
  const ext = backend.endsWith("E") ? keyExtension(fileName) : "";
  const key: Key = { backend, size, name: `${hasher.hexDigest()}${ext}` };
  formatKey(key); // an extension git-annex would refuse is refused here too
  return key;
}
