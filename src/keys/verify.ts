/**
 * @module
 * Checking content against a key, as git-annex's backends do
 * (Backend/Hash.hs, Backend/GitRemoteAnnex.hs, Annex/Verify.hs): compare the
 * key's size with the byte count, and for hash backends a lower-case hex
 * digest with the key's hash part. Streaming only; nothing buffers an object.
 */
import { createHash, getHashes, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { AnnexgateError } from "../errors.js";
import { formatKey, isChunkKey, type Key, keyHashPart, nonChunkKey } from "./key.js";

/** Incremental content check for one key; feed every byte, then ask once or more. */
export interface Verifier {
  update(chunk: Uint8Array): void;
  /**
   * True when the digest matches the key and, if the key has a size, exactly
   * that many bytes were fed (git-annex checks size before checksum). Ends
   * the verifier: `update` afterwards throws.
   */
  matches(): boolean;
}

/** What `verificationFor` found: a digest to check with fresh `Verifier`s, or nothing beyond size. */
export type Verification = { kind: "hash"; create(): Verifier } | { kind: "none" };

/** Why a key cannot be verified here; kept in `UnverifiableKeyError.data.reason`. */
export type UnverifiableReason =
  | "unsupported-hash"
  | "external-backend"
  | "equivalent-keys"
  | "chunk-key"
  | "unknown-backend";

/**
 * The key's content cannot be checked from the key alone in this process.
 * Callers decide whether to refuse the content or to accept it unverified;
 * `data.reason` says which case this is.
 */
export class UnverifiableKeyError extends AnnexgateError {
  constructor(key: Key, reason: UnverifiableReason, cause?: unknown) {
    const backend = key.backend;
    super(
      "AG_UNVERIFIABLE_KEY",
      `cannot verify content of ${backend} key (${reason})`,
      { backend, name: key.name, reason },
      cause,
    );
  }
}

/* Node's names for the digests git-annex's hash varieties use (E or not). */
const NODE_DIGEST: Readonly<Record<string, string>> = {
  SHA256: "sha256",
  SHA512: "sha512",
  SHA224: "sha224",
  SHA384: "sha384",
  SHA3_256: "sha3-256",
  SHA3_512: "sha3-512",
  SHA3_224: "sha3-224",
  SHA3_384: "sha3-384",
  BLAKE2B512: "blake2b512",
  BLAKE2S256: "blake2s256",
  SHA1: "sha1",
  MD5: "md5",
};

/** Node's digest for a hash backend (E or not), or undefined when it has none. */
export function digestOf(backend: string): string | undefined {
  return NODE_DIGEST[backend.endsWith("E") ? backend.slice(0, -1) : backend];
}

/*
 * Hash varieties git-annex knows that Node's OpenSSL cannot compute: no
 * Skein at all, and BLAKE2 only at its full output length (a shorter BLAKE2
 * is not a truncated longer one; the length is part of the initial state).
 */
const UNCOMPUTABLE_HASHES = new Set([
  "SKEIN256",
  "SKEIN512",
  "BLAKE2B160",
  "BLAKE2B224",
  "BLAKE2B256",
  "BLAKE2B384",
  "BLAKE2BP512",
  "BLAKE2S160",
  "BLAKE2S224",
  "BLAKE2SP224",
  "BLAKE2SP256",
]);

/*
 * Varieties git-annex itself never checksums (verifyKeyContent = Nothing):
 * WORM and URL name content by metadata, GITMANIFEST content changes in
 * place. Only their size, when known, is checked.
 */
const UNVERIFIED = new Set(["WORM", "URL", "GITMANIFEST"]);

const AVAILABLE = new Set(getHashes());

/**
 * How to check content for `key`.
 *
 * - `{kind:"hash"}` for SHA1/MD5, SHA-2 and SHA-3 sizes, BLAKE2B512 and
 *   BLAKE2S256, each with its E variant, and GITBUNDLE (SHA-256 of the part
 *   after the name's last "-"); `create()` gives a fresh `Verifier`.
 * - `{kind:"none"}` for WORM, URL and GITMANIFEST, which git-annex stores
 *   without checksum.
 *
 * Throws `UnverifiableKeyError` when the key alone is not enough:
 * - "unsupported-hash": SKEIN, short BLAKE2B/BLAKE2S, BLAKE2BP, BLAKE2SP;
 * - "external-backend": "X…" keys need their external program;
 * - "equivalent-keys": VURL content is checked against the hash keys
 *   recorded for it in the git-annex branch (Logs/EquivilantKeys); a caller
 *   with the branch verifies with `verificationFor(thatKey)` and, as
 *   git-annex does, accepts when none is recorded;
 * - "chunk-key": a chunk's bytes are a slice of the object, so only the
 *   reassembled whole can be checked, against `nonChunkKey(key)`;
 * - "unknown-backend": git-annex would skip the check; annexgate does not
 *   guess.
 *
 * @throws UnverifiableKeyError; BadKeyError for a hand-built key `formatKey` refuses
 * @example
 * const v = verificationFor(key);
 * if (v.kind === "hash") { const h = v.create(); for await (const c of body) h.update(c); ok = h.matches(); }
 */
export function verificationFor(key: Key): Verification {
  // Refuse a malformed hand-built key here, not on the first byte of a transfer.
  formatKey(key);
  if (isChunkKey(key)) throw new UnverifiableKeyError(key, "chunk-key");
  const backend = key.backend;
  if (UNVERIFIED.has(backend)) return { kind: "none" };
  if (backend === "GITBUNDLE") {
    // The name is "<remote uuid>-<sha256>"; no "\" tolerance here (sameCheckSum in GitRemoteAnnex.hs).
    const expected = key.name.slice(key.name.lastIndexOf("-") + 1);
    return hashVerification(key, "sha256", (hex) => hex === expected);
  }
  if (backend === "VURL") throw new UnverifiableKeyError(key, "equivalent-keys");
  const base = backend.endsWith("E") ? backend.slice(0, -1) : backend;
  const digest = NODE_DIGEST[base];
  if (digest !== undefined) {
    const expected = keyHashPart(key);
    // A long-fixed git-annex bug wrote some hashes with a leading "\"; git-annex still accepts those.
    return hashVerification(key, digest, (hex) => hex === expected || `\\${hex}` === expected);
  }
  if (UNCOMPUTABLE_HASHES.has(base)) throw new UnverifiableKeyError(key, "unsupported-hash");
  if (backend.startsWith("X")) throw new UnverifiableKeyError(key, "external-backend");
  throw new UnverifiableKeyError(key, "unknown-backend");
}

/** What a receiving repository does with content for a key (`receiveVerification`). */
export type ReceiveVerification =
  | Verification
  | { kind: "refuse"; reason: Exclude<UnverifiableReason, "chunk-key"> };

/**
 * What a repository receiving content for `key` checks, answered for every
 * key, as git-annex's receiving side does (a P2P PUT ends in
 * verifyKeyContent), so that uploads answer what stock answers:
 * - the backend's own check (`verificationFor`) where there is one;
 * - a chunk key: that same check applied to the key as written, the
 *   chunk's bytes against the key's hash part and size. git-annex does
 *   exactly this, so a hash chunk is practically always refused and a
 *   WORM or URL chunk is stored;
 * - "none" (the key's size only, which the store checks for every key) for
 *   unknown and external ("X…") backends: git-annex has no check for them
 *   either and stores them;
 * - "refuse" for hashes Node cannot compute (SKEIN, short BLAKE2) and for
 *   VURL, whose equivalent keys live in the git-annex branch. git-annex
 *   would check these; storing them unchecked could keep garbage under a
 *   key that promises a hash, so annexgate refuses them instead.
 *
 * @example
 * receiveVerification(parseKey("FOOBAR-s5--x")) // { kind: "none" }
 */
export function receiveVerification(key: Key): ReceiveVerification {
  try {
    return verificationFor(isChunkKey(key) ? nonChunkKey(key) : key);
  } catch (e) {
    if (!(e instanceof UnverifiableKeyError)) throw e;
    const reason = e.data.reason as UnverifiableReason;
    if (reason === "unknown-backend" || reason === "external-backend") return { kind: "none" };
    if (reason === "chunk-key") throw e; // not reached: chunk fields are dropped above
    return { kind: "refuse", reason };
  }
}

function hashVerification(
  key: Key,
  digest: string,
  accept: (hex: string) => boolean,
): Verification {
  if (!AVAILABLE.has(digest)) throw new UnverifiableKeyError(key, "unsupported-hash");
  return {
    kind: "hash",
    create: () => new HashVerifier(createHash(digest), key.size, accept),
  };
}

class HashVerifier implements Verifier {
  readonly #hash: Hash;
  readonly #size: number | undefined;
  readonly #accept: (hex: string) => boolean;
  #bytes = 0;
  #result: boolean | undefined;

  constructor(hash: Hash, size: number | undefined, accept: (hex: string) => boolean) {
    this.#hash = hash;
    this.#size = size;
    this.#accept = accept;
  }

  update(chunk: Uint8Array): void {
    if (this.#result !== undefined) {
      throw new AnnexgateError("AG_VERIFIER_FINISHED", "update() after matches()");
    }
    this.#hash.update(chunk);
    this.#bytes += chunk.byteLength;
  }

  matches(): boolean {
    if (this.#result === undefined) {
      const hex = this.#hash.digest("hex");
      this.#result = (this.#size === undefined || this.#size === this.#bytes) && this.#accept(hex);
    }
    return this.#result;
  }
}

/**
 * Read a file and say whether it is the content of `key`: its size must
 * equal the key's size when the key has one (for every kind, as git-annex's
 * verifyKeyContent does), and for "hash" keys its digest must match. A size
 * mismatch answers without reading the file.
 *
 * @throws UnverifiableKeyError (see `verificationFor`); file-system errors as they come.
 * @example
 * await verifyFile(parseKey("SHA256E-s5--2cf2…9824.txt"), "/tmp/hello.txt") // true
 */
export async function verifyFile(
  key: Key,
  path: string,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const verification = verificationFor(key);
  if (key.size !== undefined && (await stat(path)).size !== key.size) return false;
  if (verification.kind === "none") return true;
  const verifier = verification.create();
  const stream = createReadStream(
    path,
    options.signal === undefined
      ? { highWaterMark: 64 * 1024 }
      : { highWaterMark: 64 * 1024, signal: options.signal },
  );
  for await (const chunk of stream) verifier.update(chunk as Buffer);
  return verifier.matches();
}
