/**
 * A special remote's encryption as git-annex keeps it in remote.log
 * (Remote/Helper/Encryptable.hs `extractCipher`, `storeCipher`,
 * `parseEncryptionMethod`; Types/Crypto.hs): `cipher=` is the base64 of
 * the stored cipher, `cipherkeys=` (hybrid, pubkey) or `pubkeys=`
 * (sharedpubkey) the comma-separated gpg key ids, `mac=` the HMAC that
 * names objects (HMACSHA1 when unset, or when remote.log holds a name
 * git-annex does not know: it reads stored values leniently). By method:
 * - shared: the cipher itself, in the clear;
 * - hybrid, pubkey: the cipher encrypted to the key ids (a gpg message);
 *   the gateway decrypts it with its secret key (remote-cipher.ts);
 * - sharedpubkey: the cipher in the clear, used only for names; content
 *   is encrypted to the public keys.
 * An `encryption=` absent with a cipher recorded is hybrid, as git-annex
 * reads it. This module only reads the fields; nothing here runs gpg.
 */
import type { SpecialRemoteConfig } from "../../remotes/index.js";

/** The HMAC names git-annex knows, and node's digest for each. */
export const MACS: ReadonlyMap<string, string> = new Map([
  ["HMACSHA1", "sha1"],
  ["HMACSHA224", "sha224"],
  ["HMACSHA256", "sha256"],
  ["HMACSHA384", "sha384"],
  ["HMACSHA512", "sha512"],
]);
const DEFAULT_MAC = "HMACSHA1";
/**
 * How much of a full cipher keys the HMAC (Crypto.hs `cipherBeginning`);
 * the rest is the symmetric passphrase. A cipher used only for names
 * (pubkey, sharedpubkey) keys the HMAC whole.
 */
export const CIPHER_MAC_BYTES = 256;

export type EncryptionMethod = "shared" | "hybrid" | "pubkey" | "sharedpubkey";

/** The cipher as remote.log stores it (Types/Crypto.hs `StorableCipher`). */
export type StoredCipher =
  | { readonly method: "shared"; readonly cipher: Buffer }
  | {
      readonly method: "hybrid" | "pubkey";
      /** The gpg message of the cipher, encrypted to `keyIds`. */
      readonly encrypted: Buffer;
      readonly keyIds: readonly string[];
    }
  | {
      readonly method: "sharedpubkey";
      readonly cipher: Buffer;
      readonly keyIds: readonly string[];
    };

export interface CipherConfig {
  readonly stored: StoredCipher;
  /** e.g. "HMACSHA1": the encrypted key names are `GPG<mac>--<hex>`. */
  readonly mac: string;
  /**
   * Whom content is encrypted to, for pubkey and sharedpubkey
   * (Crypto.hs `getGpgEncParams`: `cipherkeys=` for pubkey, `pubkeys=` for
   * sharedpubkey); empty for the symmetric methods.
   */
  readonly recipients: readonly string[];
  /** `onlyencryptcreds=yes`: content is stored plain; the cipher encrypts embedded credentials only. */
  readonly onlyCreds: boolean;
  /** `remote.NAME.annex-gnupg-options`, words given to gpg when encrypting. */
  readonly encryptOptions: readonly string[];
  /** `remote.NAME.annex-gnupg-decrypt-options`, words given to gpg when decrypting. */
  readonly decryptOptions: readonly string[];
}

/** What remote.log says of the remote's encryption, or why annexgate does not serve it. */
export type CipherVerdict =
  | { readonly kind: "none" }
  | { readonly kind: "cipher"; readonly config: CipherConfig }
  | { readonly kind: "refused"; readonly reason: string };

const METHODS: ReadonlySet<string> = new Set(["shared", "hybrid", "pubkey", "sharedpubkey"]);

/** git-annex splits these options on white space (Types/GitConfig.hs `words`). */
function words(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(/\s+/).filter((w) => w !== "");
}

/** git-annex splits key ids on commas, keeping empty ones (Utility/Split.hs `splitc`). */
function keyIdList(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(",");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The stored cipher of `method`, or why there is none git-annex would use. */
function storedCipher(
  method: EncryptionMethod,
  bytes: Buffer,
  f: Readonly<Record<string, string>>,
): StoredCipher | string {
  const keys = f.cipherkeys ?? f.pubkeys;
  if (method === "shared") {
    // git-annex does not read such a cipher as a shared one either.
    if (keys !== undefined) return "encryption=shared with gpg key ids is not a shared cipher";
    if (bytes.length <= CIPHER_MAC_BYTES)
      return "encryption=shared but the recorded cipher is too short";
    return { method, cipher: bytes };
  }
  if (keys === undefined) return `encryption=${method} but no gpg key ids are recorded`;
  const keyIds = keyIdList(keys);
  if (method === "sharedpubkey") return { method, cipher: bytes, keyIds };
  return { method, encrypted: bytes, keyIds };
}

/**
 * What encryption the remote uses, read as git-annex reads it: a cipher
 * counts only with a method (named, or hybrid when unnamed) and the key
 * ids that method needs; `encryption=none` (or unset) with no cipher is
 * plain. Anything else is refused: a cipher recorded under
 * `encryption=none`, a method without its cipher or key ids, a method
 * git-annex does not know.
 */
export function cipherConfigOf(config: SpecialRemoteConfig): CipherVerdict {
  const f = config.fields;
  const cipher = f.cipher;
  // Encryptable.hs parseEncryptionMethod: a cipher without a method is hybrid.
  const method = f.encryption ?? (cipher !== undefined ? "hybrid" : "none");
  if (method === "none" && cipher === undefined) return { kind: "none" };
  if (method === "none") {
    return { kind: "refused", reason: "a cipher is recorded but encryption=none" };
  }
  if (!METHODS.has(method)) return { kind: "refused", reason: `bad encryption=${method}` };
  if (cipher === undefined || cipher === "" || !BASE64.test(cipher)) {
    return { kind: "refused", reason: `encryption=${method} but no usable cipher is recorded` };
  }
  const m = method as EncryptionMethod;
  const stored = storedCipher(m, Buffer.from(cipher, "base64"), f);
  if (typeof stored === "string") return { kind: "refused", reason: stored };
  const recipients =
    m === "pubkey" ? keyIdList(f.cipherkeys) : m === "sharedpubkey" ? keyIdList(f.pubkeys) : [];
  return {
    kind: "cipher",
    config: {
      stored,
      mac: f.mac !== undefined && MACS.has(f.mac) ? f.mac : DEFAULT_MAC,
      recipients,
      onlyCreds: f.onlyencryptcreds === "yes",
      encryptOptions: words(config.gitConfig["gnupg-options"]),
      decryptOptions: words(config.gitConfig["gnupg-decrypt-options"]),
    },
  };
}

/** The method and its keys, in git-annex's words (Encryptable.hs `describeEncryption`). */
export function describeCipher(stored: StoredCipher): string {
  if (stored.method === "shared") return "shared (encryption key stored in git repository)";
  return `${stored.method} (to gpg keys: ${stored.keyIds.join(" ")})`;
}
