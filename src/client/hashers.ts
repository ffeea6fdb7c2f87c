/**
 * The hashes of git-annex's hash backends, portable (the browser has no
 * streaming hash of its own: WebCrypto digests whole buffers only), from
 * @noble/hashes; and keys computed with them by the keys layer's rules, so
 * they agree with `git annex calckey`.
 */
import { blake2b, blake2s } from "@noble/hashes/blake2.js";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { sha3_224, sha3_256, sha3_384, sha3_512 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { calcKeyWith, type Key, type KeyHasher } from "../keys/portable.js";
import { ClientError } from "./errors.js";

interface RunningHash {
  update(chunk: Uint8Array): unknown;
  digest(): Uint8Array;
}

/* Each hash variety (a backend without its E), as a maker of running hashes. */
const HASHES: Readonly<Record<string, () => RunningHash>> = {
  SHA256: () => sha256.create(),
  SHA512: () => sha512.create(),
  SHA224: () => sha224.create(),
  SHA384: () => sha384.create(),
  SHA3_224: () => sha3_224.create(),
  SHA3_256: () => sha3_256.create(),
  SHA3_384: () => sha3_384.create(),
  SHA3_512: () => sha3_512.create(),
  SHA1: () => sha1.create(),
  MD5: () => md5.create(),
  BLAKE2B160: () => blake2b.create({ dkLen: 20 }),
  BLAKE2B224: () => blake2b.create({ dkLen: 28 }),
  BLAKE2B256: () => blake2b.create({ dkLen: 32 }),
  BLAKE2B384: () => blake2b.create({ dkLen: 48 }),
  BLAKE2B512: () => blake2b.create({ dkLen: 64 }),
  BLAKE2S160: () => blake2s.create({ dkLen: 20 }),
  BLAKE2S224: () => blake2s.create({ dkLen: 28 }),
  BLAKE2S256: () => blake2s.create({ dkLen: 32 }),
};

function variety(backend: string): string {
  return backend.endsWith("E") ? backend.slice(0, -1) : backend;
}

/** The backends whose keys this library computes and checks (each with and without E). */
export const HASH_BACKENDS: readonly string[] = Object.keys(HASHES).flatMap((h) => [h, `${h}E`]);

/** A running hash for `backend`, or undefined when it is not a hash backend known here. */
export function hasherFor(backend: string): KeyHasher | undefined {
  const name = variety(backend);
  const make = Object.hasOwn(HASHES, name) ? HASHES[name] : undefined;
  if (make === undefined) return undefined;
  const hash = make();
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    hexDigest: () => bytesToHex(hash.digest()),
  };
}

/** Content a key can be computed of, or sent: bytes, a Blob (a File), or a stream of bytes. */
export type Content = Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The content as chunks, read once. */
export async function* chunksOf(content: Content): AsyncGenerator<Uint8Array> {
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  const stream = content instanceof Blob ? content.stream() : content;
  if (stream instanceof ReadableStream) {
    const reader = stream.getReader();
    let ended = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          return;
        }
        yield value;
      }
    } finally {
      // Given up before its end (an aborted put): the stream, and any file
      // behind it, is closed rather than left open.
      if (!ended) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  }
  yield* stream as AsyncIterable<Uint8Array>;
}

/**
 * The git-annex key of `content` under `backend` (default SHA256E), named
 * for `fileName` (its extension, for E backends), as `git annex calckey`
 * gives it.
 *
 * @example
 * const key = await computeKey(file, { fileName: file.name });
 * formatKey(key); // "SHA256E-s1024--9f86….jpg"
 */
export function computeKey(
  content: Content,
  opts: { readonly backend?: string; readonly fileName?: string } = {},
): Promise<Key> {
  const backend = opts.backend ?? "SHA256E";
  const hasher = hasherFor(backend);
  if (hasher === undefined) {
    throw new ClientError(`cannot compute keys of backend ${backend}`, { backend });
  }
  return calcKeyWith(hasher, backend, chunksOf(content), opts.fileName ?? "");
}
