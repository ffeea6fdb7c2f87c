/**
 * A remote's cipher made usable (Crypto.hs `decryptCipher`, `encryptKey`,
 * `encrypt`, `decrypt`; Remote/Helper/Encryptable.hs `remoteCipher`):
 * - shared: the stored cipher; its first 256 bytes key the HMAC, the rest
 *   is the passphrase of content's symmetric encryption;
 * - hybrid: the same, once the stored gpg message is decrypted with a
 *   secret key of the gateway's keyring;
 * - pubkey: the decrypted cipher keys the HMAC whole; content is
 *   encrypted to the `cipherkeys=` public keys;
 * - sharedpubkey: the stored cipher (in the clear) keys the HMAC whole;
 *   content is encrypted to the `pubkeys=` public keys.
 * Decrypting a cipher runs gpg with the secret key, so a decrypted one is
 * kept for the life of the process, as git-annex keeps it for a command:
 * every reopening of the remote (and its embedded credentials) reuses it.
 */
import { createHmac } from "node:crypto";
import {
  CIPHER_MAC_BYTES,
  type CipherConfig,
  describeCipher,
  type EncryptionMethod,
  MACS,
} from "./cipher-config.js";
import { GpgError, type GpgKeying, gpgWhole } from "./gpg.js";

/** Everything needed to name, encrypt and decrypt a remote's objects. */
export interface RemoteEncryption {
  readonly method: EncryptionMethod;
  /** e.g. "HMACSHA1": the encrypted key names are `GPG<mac>--<hex>`. */
  readonly mac: string;
  readonly macKey: Buffer;
  /** How content (and embedded credentials) are encrypted. */
  readonly keying: GpgKeying;
  /** `remote.NAME.annex-gnupg-options`, words given to gpg when encrypting. */
  readonly encryptOptions: readonly string[];
  /** `remote.NAME.annex-gnupg-decrypt-options`, words given to gpg when decrypting. */
  readonly decryptOptions: readonly string[];
}

/** The cipher cannot be used; the message names the remote's method and keys, never a path. */
export class CipherUnavailableError extends Error {}

/** Decrypted ciphers, by gpg program, gpg home and stored message. */
const decrypted = new Map<string, Promise<Buffer>>();
/** Far more remotes than a gateway has: past it the oldest is forgotten. */
const MAX_CACHED = 256;

function decryptCipher(
  encrypted: Buffer,
  decryptOptions: readonly string[],
  program: string | undefined,
): Promise<Buffer> {
  const id = [program ?? "gpg", process.env.GNUPGHOME ?? "", encrypted.toString("base64")].join(
    "\0",
  );
  const known = decrypted.get(id);
  if (known !== undefined) return known;
  // Crypto.hs decryptCipher: `--decrypt` and the user's decrypt options,
  // the secret key from the keyring (no passphrase of ours).
  const made = gpgWhole(
    "decrypt",
    {
      keying: { kind: "pubkey", recipients: [] },
      userOptions: decryptOptions,
      ...(program !== undefined ? { program } : {}),
    },
    encrypted,
  );
  decrypted.set(id, made);
  // A failure is not kept: a key imported later is used on the next open.
  made.catch(() => decrypted.delete(id));
  if (decrypted.size > MAX_CACHED) {
    const oldest = decrypted.keys().next().value;
    if (oldest !== undefined) decrypted.delete(oldest);
  }
  return made;
}

/** Why the cipher could not be decrypted, in words for the operator and the client. */
function unavailable(cfg: CipherConfig, e: unknown): unknown {
  if (!(e instanceof GpgError)) return e;
  const what = `encryption=${describeCipher(cfg.stored)}`;
  const why =
    e.data.failure === "no-secret-key"
      ? "the gateway's gpg keyring holds no secret key to decrypt its cipher"
      : e.data.failure === "missing"
        ? e.message
        : "gpg could not decrypt its cipher";
  return new CipherUnavailableError(`${what}: ${why}`, { cause: e });
}

/** A full cipher split into the HMAC key and the symmetric passphrase. */
function symmetric(cipher: Buffer): { macKey: Buffer; keying: GpgKeying } | null {
  if (cipher.length <= CIPHER_MAC_BYTES) return null;
  return {
    macKey: cipher.subarray(0, CIPHER_MAC_BYTES),
    keying: { kind: "symmetric", passphrase: cipher.subarray(CIPHER_MAC_BYTES) },
  };
}

/**
 * The remote's encryption, its cipher decrypted when it is stored
 * encrypted (hybrid, pubkey).
 *
 * @throws CipherUnavailableError when gpg cannot decrypt the cipher (no
 *   secret key for it, gpg missing) or it is not a cipher git-annex made.
 */
export async function remoteEncryption(
  cfg: CipherConfig,
  opts: { readonly gpgProgram?: string } = {},
): Promise<RemoteEncryption> {
  const s = cfg.stored;
  const common = {
    method: s.method,
    mac: cfg.mac,
    encryptOptions: cfg.encryptOptions,
    decryptOptions: cfg.decryptOptions,
  };
  const toKeys: GpgKeying = { kind: "pubkey", recipients: cfg.recipients };
  if (s.method === "sharedpubkey") return { ...common, macKey: s.cipher, keying: toKeys };
  const cipher =
    s.method === "shared"
      ? s.cipher
      : await decryptCipher(s.encrypted, cfg.decryptOptions, opts.gpgProgram).catch((e) => {
          throw unavailable(cfg, e);
        });
  if (s.method === "pubkey") return { ...common, macKey: cipher, keying: toKeys };
  const split = symmetric(cipher);
  if (split === null) {
    throw new CipherUnavailableError(
      `encryption=${describeCipher(s)}: the cipher is too short to be one git-annex made`,
    );
  }
  return { ...common, ...split };
}

/**
 * The name git-annex stores an object under on an encrypted remote
 * (Crypto.hs `encryptKey`): `GPG<mac>--` and the hex HMAC of the
 * serialized key (a chunk key for a chunk), keyed by the cipher's MAC part.
 */
export function encryptedName(
  enc: Pick<RemoteEncryption, "mac" | "macKey">,
  serializedKey: string,
): string {
  const digest = MACS.get(enc.mac) ?? "sha1";
  const hex = createHmac(digest, enc.macKey).update(serializedKey, "utf8").digest("hex");
  return `GPG${enc.mac}--${hex}`;
}
