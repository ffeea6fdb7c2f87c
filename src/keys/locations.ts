/**
 * @module
 * Where a key's content lives, relative to `annex/objects`
 * (Annex/Locations.hs `keyFile`, `keyPath`).
 */
import { hashDirLower, hashDirMixed } from "./hashdirs.js";
import { formatKey, type Key } from "./key.js";

/*
 * The escaping is one-to-one and frozen: changing it would strand existing
 * objects. Escaping "&" itself is what keeps the mapping reversible, and
 * "/" → "%" is what keeps a key with "/" (URL keys, WORM keys of files in
 * subdirectories) one file name: every path made from a key goes through here.
 */
const KEYFILE_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&a",
  "%": "&s",
  ":": "&c",
  "/": "%",
};

/**
 * The file (and directory) name git-annex gives a key's object: the
 * serialized key (chunk fields included) with "&"→"&a", "%"→"&s", ":"→"&c"
 * and "/"→"%".
 *
 * @example
 * keyFile(parseKey("SHA256E-s5--abc&d%e:f.txt")) // "SHA256E-s5--abc&ad&se&cf.txt"
 */
export function keyFile(key: Key): string {
  return formatKey(key).replace(/[&%:/]/g, (c) => KEYFILE_ESCAPES[c] ?? c);
}

/**
 * Path of a key's object relative to `annex/objects`: the hash directory,
 * then the key file twice (git-annex puts each object in a directory of its
 * own name so the directory can be write-protected). Use "mixed" for
 * non-bare repositories and "lower" for bare ones and special remotes.
 *
 * @example
 * objectPath(k, "lower") // "944/e76/SHA256E-s5--….txt/SHA256E-s5--….txt"
 */
export function objectPath(key: Key, layout: "mixed" | "lower"): string {
  const dir = layout === "mixed" ? hashDirMixed(key) : hashDirLower(key);
  const file = keyFile(key);
  return `${dir}/${file}/${file}`;
}
