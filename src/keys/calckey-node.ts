/**
 * Keys of streams and files computed with Node's own hashes (OpenSSL, the
 * fastest here); the rules are calckey.ts's.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { calcKeyWith } from "./calckey.js";
import type { Key } from "./key.js";
import { digestOf } from "./verify.js";

/**
 * The key of `data` (all of it) under `backend` (the hash backends
 * annexgate verifies), named for `fileName` when the backend keeps extensions.
 */
export function calcKey(
  backend: string,
  data: AsyncIterable<Uint8Array>,
  fileName = "",
): Promise<Key> {
  const digest = digestOf(backend);
  if (digest === undefined) throw new Error(`cannot compute keys of backend ${backend}`);
  const hash = createHash(digest);
  return calcKeyWith(
    { update: (c) => hash.update(c), hexDigest: () => hash.digest("hex") },
    backend,
    data,
    fileName,
  );
}

/** The key of the file at `path`, as `git annex calckey --backend=BACKEND PATH` gives it. */
export function calcKeyOfFile(backend: string, path: string): Promise<Key> {
  return calcKey(backend, createReadStream(path), path);
}
