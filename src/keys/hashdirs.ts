/**
 * @module
 * The two directory hashes git-annex spreads objects and branch log files
 * over (Annex/DirHashes.hs), always with the default two levels. Both are
 * taken from the MD5 of the serialized key *without* its chunk fields, so
 * every chunk of an object lands beside the object.
 */
import { hash } from "node:crypto";
import { GenerationalCache } from "../util/index.js";
import { formatKey, type Key, nonChunkKey } from "./key.js";

/** MD5s of frozen keys (every parsed one), kept with the key. */
const MD5 = new WeakMap<Key, Buffer>();
/**
 * And by the key's text, for the next request about the same key (a key
 * is parsed afresh for each): an upload asks checkpresent, putoffset and
 * put, and each reads the key's location log. A one-shot MD5 of a short
 * text costs about 2 µs (mostly OpenSSL's set-up), a lookup well under one.
 */
const MD5_BY_TEXT = new GenerationalCache<string, Buffer>(4096, () => 1);
/**
 * Longer texts are not kept: a client may send keys of many KiB, and
 * 4,096 of them would hold that many times their size.
 */
const MAX_KEPT_TEXT = 256;

/**
 * One-shot `hash` (no Hash object), once per key: a question about a key
 * wants its object path in two layouts and its log files' directory.
 */
function md5OfKey(key: Key): Buffer {
  let digest = MD5.get(key);
  if (digest === undefined) {
    const text = formatKey(nonChunkKey(key));
    const keep = text.length <= MAX_KEPT_TEXT;
    digest = keep ? MD5_BY_TEXT.get(text) : undefined;
    if (digest === undefined) {
      digest = hash("md5", text, "buffer");
      if (keep) MD5_BY_TEXT.set(text, digest);
    }
    if (Object.isFrozen(key)) MD5.set(key, digest);
  }
  return digest;
}

/*
 * 32 symbols chosen by git-annex to avoid spelling real words (Utility/MD5.hs
 * display_32bits_as_dir); five bits pick one, but the windows step six bits.
 */
const MIXED_SYMBOLS = "0123456789zqjxkmvwgpfZQJXKMVWGPF";

/**
 * Mixed-case hash directory, as used under `.git/annex/objects` of non-bare
 * repositories: two levels of two characters.
 *
 * git-annex reads the first MD5 word little-endian, renders 6-bit windows of
 * it as symbols, swaps each pair and keeps the first four; so the result is
 * the symbols of windows 1,0 then 3,2.
 *
 * @example
 * hashDirMixed(parseKey("SHA256E-s5--abc&d%e:f.txt")) // "0m/K8"
 */
export function hashDirMixed(key: Key): string {
  const w = md5OfKey(key).readUInt32LE(0);
  const sym = (i: number): string => MIXED_SYMBOLS.charAt((w >>> (6 * i)) & 31);
  return `${sym(1)}${sym(0)}/${sym(3)}${sym(2)}`;
}

/**
 * Lower-case hash directory: two levels of three hex digits of the MD5. Used
 * for objects in bare repositories and special remotes, and for per-key log
 * files in the git-annex branch.
 *
 * @example
 * hashDirLower(parseKey("SHA256E-s5--abc&d%e:f.txt")) // "0f8/864"
 */
export function hashDirLower(key: Key): string {
  const hex = md5OfKey(key).toString("hex");
  return `${hex.slice(0, 3)}/${hex.slice(3, 6)}`;
}
