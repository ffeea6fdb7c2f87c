/**
 * What every special-remote kind reads in its configuration before it
 * opens a Peer: its chunking, and the features annexgate does not serve.
 * An encryption configuration git-annex would not read as a cipher
 * (cipher-config.ts), and legacy `chunksize=` chunking, which names and
 * lays out chunks unlike the current scheme: served as if plain, such a
 * remote would answer "absent" for content that is there and store
 * content stock git-annex cannot read, so it is refused when it is
 * opened, never served wrongly. Whether the gateway's gpg keyring holds
 * the keys an encryption needs is asked later, when the remote is opened
 * (open-encryption.ts).
 */

import type { SpecialRemoteConfig } from "../../remotes/index.js";
import { parseSize } from "../../sizes/index.js";
import { cipherConfigOf } from "./cipher-config.js";

/** A remote's chunking: `chunk=` size in bytes, or null when unchunked. */
export type ChunkConfig = { readonly chunkSize: number | null };

/**
 * The remote's chunking (Remote/Helper/Chunked.hs getChunkConfig: legacy
 * `chunksize=` first, then `chunk=`, a size of 0 meaning unchunked), or
 * why annexgate cannot serve it (a string).
 */
export function chunkConfig(config: SpecialRemoteConfig): ChunkConfig | string {
  const f = config.fields;
  for (const field of ["chunksize", "chunk"] as const) {
    const v = f[field];
    if (v === undefined) continue;
    let size: bigint;
    try {
      size = parseSize(v);
    } catch {
      // git-annex's own words for it.
      return `bad configuration ${field}=${v}`;
    }
    if (size < 0n) return `bad configuration ${field}=${v}`;
    // A size of 0 is unchunked; the legacy field wins when both are set.
    if (size === 0n) return { chunkSize: null };
    if (field === "chunksize") {
      return "special remotes with legacy chunksize= chunking are not supported (chunk= is)";
    }
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return `bad configuration ${field}=${v}`;
    return { chunkSize: Number(size) };
  }
  return { chunkSize: null };
}

/**
 * Why annexgate cannot serve a special remote with this configuration, or
 * null when it can: its chunking, then its encryption as cipher-config.ts
 * reads it.
 */
export function unsupportedSpecialFeature(config: SpecialRemoteConfig): string | null {
  const chunking = chunkConfig(config);
  if (typeof chunking === "string") return chunking;
  const encryption = cipherConfigOf(config);
  return encryption.kind === "refused" ? encryption.reason : null;
}
