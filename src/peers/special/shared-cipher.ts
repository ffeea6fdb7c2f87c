/**
 * A special remote's `encryption=shared` settings, as git-annex keeps them
 * in remote.log (Remote/Helper/Encryptable.hs, Crypto.hs, Types/Crypto.hs):
 * `cipher=` is the base64 of the cipher, itself gpg's armored random text;
 * its first 256 bytes are the HMAC key that names objects on the remote,
 * the rest is the passphrase of the gpg symmetric encryption of their
 * content. `mac=` chooses the HMAC (HMACSHA1 when unset, or when remote.log
 * holds a name git-annex does not know: it reads stored values leniently).
 *
 * The other methods keep the cipher encrypted to the user's gpg keys
 * (hybrid, pubkey) or encrypt content to gpg public keys (sharedpubkey):
 * reading such a remote needs a secret key the gateway does not hold, so
 * they are refused.
 */
import { createHmac } from "node:crypto";
import type { SpecialRemoteConfig } from "../../remotes/index.js";

/** The HMAC names git-annex knows, and node's digest for each. */
const MACS: ReadonlyMap<string, string> = new Map([
  ["HMACSHA1", "sha1"],
  ["HMACSHA224", "sha224"],
  ["HMACSHA256", "sha256"],
  ["HMACSHA384", "sha384"],
  ["HMACSHA512", "sha512"],
]);
const DEFAULT_MAC = "HMACSHA1";
/** How much of the cipher keys the HMAC (Crypto.hs `cipherBeginning`). */
const CIPHER_MAC_BYTES = 256;

export interface SharedEncryption {
  /** e.g. "HMACSHA1": the encrypted key names are `GPG<mac>--<hex>`. */
  readonly mac: string;
  readonly macKey: Buffer;
  /** The gpg symmetric passphrase (fed to gpg followed by a newline, as git-annex does). */
  readonly passphrase: Buffer;
  /** `remote.NAME.annex-gnupg-options`, words given to gpg when encrypting. */
  readonly encryptOptions: readonly string[];
  /** `remote.NAME.annex-gnupg-decrypt-options`, words given to gpg when decrypting. */
  readonly decryptOptions: readonly string[];
}

/** A configuration of encryption annexgate does not serve. */
export type EncryptionVerdict =
  | { readonly kind: "none" }
  | { readonly kind: "shared"; readonly encryption: SharedEncryption }
  | { readonly kind: "refused"; readonly reason: string };

const SECRET_KEY_METHODS: ReadonlyMap<string, string> = new Map([
  ["hybrid", "its cipher is encrypted to the user's gpg key"],
  ["pubkey", "content is encrypted to the user's gpg key"],
  ["sharedpubkey", "content is encrypted to gpg public keys"],
]);

/** git-annex splits these options on white space (Types/GitConfig.hs `words`). */
function words(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(/\s+/).filter((w) => w !== "");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * What encryption the remote uses, read as git-annex reads it: a cipher
 * counts only with `encryption=` naming its method; `encryption=none` (or
 * unset) with no cipher is plain. Anything else is refused: a stored cipher
 * without its method, a method without a cipher, a method needing a
 * secret key.
 */
export function encryptionOf(config: SpecialRemoteConfig): EncryptionVerdict {
  const f = config.fields;
  const method = f.encryption;
  const cipher = f.cipher;
  if ((method === undefined || method === "none") && cipher === undefined) return { kind: "none" };
  if (method === undefined || method === "none") {
    return { kind: "refused", reason: "a cipher is recorded but encryption= names no method" };
  }
  const needsSecret = SECRET_KEY_METHODS.get(method);
  if (needsSecret !== undefined) {
    return {
      kind: "refused",
      reason: `encryption=${method} is not supported: ${needsSecret}, and the gateway holds no secret key to decrypt it`,
    };
  }
  if (method !== "shared") return { kind: "refused", reason: `bad encryption=${method}` };
  if (cipher === undefined || cipher === "" || !BASE64.test(cipher)) {
    return { kind: "refused", reason: "encryption=shared but no usable cipher is recorded" };
  }
  if (f.cipherkeys !== undefined || f.pubkeys !== undefined) {
    // git-annex does not read such a cipher as a shared one either.
    return { kind: "refused", reason: "encryption=shared with gpg key ids is not a shared cipher" };
  }
  const bytes = Buffer.from(cipher, "base64");
  if (bytes.length <= CIPHER_MAC_BYTES) {
    return { kind: "refused", reason: "encryption=shared but the recorded cipher is too short" };
  }
  const mac = f.mac !== undefined && MACS.has(f.mac) ? f.mac : DEFAULT_MAC;
  return {
    kind: "shared",
    encryption: {
      mac,
      macKey: bytes.subarray(0, CIPHER_MAC_BYTES),
      passphrase: bytes.subarray(CIPHER_MAC_BYTES),
      encryptOptions: words(config.gitConfig["gnupg-options"]),
      decryptOptions: words(config.gitConfig["gnupg-decrypt-options"]),
    },
  };
}

/**
 * The name git-annex stores an object under on an encrypted remote
 * (Crypto.hs `encryptKey`): `GPG<mac>--` and the hex HMAC of the
 * serialized key (a chunk key for a chunk), keyed by the cipher's start.
 */
export function encryptedName(enc: SharedEncryption, serializedKey: string): string {
  const digest = MACS.get(enc.mac) ?? "sha1";
  const hex = createHmac(digest, enc.macKey).update(serializedKey, "utf8").digest("hex");
  return `GPG${enc.mac}--${hex}`;
}
