/**
 * Keys of chunked content (Remote/Helper/Chunked.hs, Backend.hs): which
 * keys git-annex stores in chunks, and the key naming each chunk.
 */
import { type Key, nonChunkKey } from "./key.js";

/* Hash varieties (Types/Key.hs parseKeyVariety), each also with an E twin. */
const HASH_VARIETIES = new Set([
  "SHA256",
  "SHA512",
  "SHA224",
  "SHA384",
  "SHA3_512",
  "SHA3_384",
  "SHA3_256",
  "SHA3_224",
  "SKEIN512",
  "SKEIN256",
  "BLAKE2B160",
  "BLAKE2B224",
  "BLAKE2B256",
  "BLAKE2B384",
  "BLAKE2B512",
  "BLAKE2BP512",
  "BLAKE2S160",
  "BLAKE2S224",
  "BLAKE2S256",
  "BLAKE2SP224",
  "BLAKE2SP256",
  "SHA1",
  "MD5",
]);

/* Built-in varieties that are not hashes but still stable (Backend/WORM.hs, Backend/GitRemoteAnnex.hs). */
const OTHER_STABLE = new Set(["WORM", "GITBUNDLE", "GITMANIFEST"]);

/**
 * Whether the content of `key` can only ever be one thing, so that chunks
 * stored at different times can be mixed (git-annex `isStableKey`): the
 * hash varieties, WORM and the git-remote-annex keys. URL and VURL keys
 * are not (a URL's content changes), nor are unknown varieties (git-annex
 * has no backend for them). External ("X…") backends say for themselves
 * through their program, which annexgate does not run: they are taken as
 * unstable, so they are stored unchunked — which stock reads either way.
 *
 * @example
 * isStableKey(parseKey("URL--https://x")) // false
 */
export function isStableKey(key: Key): boolean {
  const b = key.backend;
  if (OTHER_STABLE.has(b)) return true;
  return HASH_VARIETIES.has(b.endsWith("E") ? b.slice(0, -1) : b);
}

/**
 * The key of chunk `n` (from 1) of `key`'s content cut into `chunkSize`
 * byte chunks (Chunked.hs `chunkKeyStream`): the whole key with `-S` and
 * `-C` fields.
 *
 * @example
 * formatKey(chunkKey(parseKey("SHA256E-s9--h.x"), 4, 2)) // "SHA256E-s9-S4-C2--h.x"
 */
export function chunkKey(key: Key, chunkSize: number, n: number): Key {
  return Object.freeze({ ...nonChunkKey(key), chunkSize, chunkNumber: n });
}

/**
 * How many chunks of `chunkSize` hold `size` bytes: at least one, so
 * empty content is one empty chunk, as git-annex stores it.
 */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}
