/**
 * What every special-remote kind checks in its configuration before it
 * opens a Peer: the features annexgate does not serve yet. A chunked
 * remote, or one encrypted other than with a shared cipher, stores objects
 * under other names (chunk keys) or bytes the gateway cannot read; served
 * as if it were plain, it would answer "absent" for content that is there
 * and store content stock git-annex cannot read. So such a remote is
 * refused when it is opened, never served wrongly.
 */

import type { SpecialRemoteConfig } from "../../remotes/index.js";
import { parseSize } from "../../sizes/index.js";
import { encryptionOf } from "./shared-cipher.js";

/**
 * Why annexgate cannot serve a special remote with this configuration, or
 * null when it can. Reads the remote.log fields as git-annex does
 * (Remote/Helper/Chunked.hs getChunkConfig: legacy `chunksize=` first,
 * then `chunk=`, a size of 0 meaning unchunked; encryption as
 * shared-cipher.ts reads it).
 */
export function unsupportedSpecialFeature(config: SpecialRemoteConfig): string | null {
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
    if (size > 0n) return "chunked special remotes are not supported yet";
    // A size of 0 is unchunked; the legacy field wins when both are set.
    break;
  }
  const encryption = encryptionOf(config);
  return encryption.kind === "refused" ? encryption.reason : null;
}
