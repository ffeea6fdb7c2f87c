/**
 * The storage of a special remote as the Peer sees it: plain content
 * under the content's own key names. An encrypted remote's storage is
 * wrapped in an EncryptedStorage once its cipher is usable, which needs,
 * of the gateway's gpg keyring (GNUPGHOME of the annexgate process, or
 * gpg's default home), what stock's gpg would need of the same keyring:
 * - shared: nothing;
 * - hybrid, pubkey: a secret key the cipher is encrypted to, else the
 *   remote is refused at open (no object name can be computed);
 * - pubkey, sharedpubkey: the public key of every recipient to store, and
 *   a secret key of one to retrieve; without them stores, or retrievals,
 *   are refused with the remote's name, the rest is served.
 * `onlyencryptcreds=yes` leaves content plain (the cipher is for the
 * embedded credentials only).
 */
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import type { PeerOpenContext } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { cipherConfigOf } from "./cipher-config.js";
import { EncryptedStorage, type EncryptedStorageOptions } from "./encrypted-storage.js";
import { GpgError } from "./gpg.js";
import { holdsAnySecretKey, missingPublicKeys } from "./keyring.js";
import {
  CipherUnavailableError,
  type RemoteEncryption,
  remoteEncryption,
} from "./remote-cipher.js";
import type { SpecialStorage } from "./storage.js";

/** What the keyring lacks for `enc`, as refusals of stores and retrievals naming the remote. */
async function keyringRefusals(
  remote: Remote,
  enc: RemoteEncryption,
  program: string | undefined,
): Promise<Pick<EncryptedStorageOptions, "refuseStore" | "refuseRead">> {
  if (enc.keying.kind !== "pubkey") return {};
  const recipients = enc.keying.recipients;
  const to = `encryption=${enc.method} encrypts content to gpg keys ${recipients.join(" ")}`;
  const missing = await missingPublicKeys(recipients, program);
  // pubkey: the cipher was just decrypted with a secret key of these keys.
  const secret = enc.method === "pubkey" || (await holdsAnySecretKey(recipients, program));
  return {
    ...(missing.length > 0
      ? {
          refuseStore: `cannot store to remote ${remote.name}: ${to}, and the gateway's gpg keyring holds no public key of ${missing.join(" ")}`,
        }
      : {}),
    ...(!secret
      ? {
          refuseRead: `cannot retrieve from remote ${remote.name}: ${to}, and the gateway's gpg keyring holds the secret key of none of them`,
        }
      : {}),
  };
}

/**
 * `storage` as plain content, or refused (UnreachableRemoteError, naming
 * the remote and why) when its encryption cannot be served.
 */
export async function plainView(
  remote: Remote,
  special: SpecialRemoteConfig,
  storage: SpecialStorage,
  ctx: PeerOpenContext,
): Promise<SpecialStorage> {
  const verdict = cipherConfigOf(special);
  if (verdict.kind === "none") return storage;
  if (verdict.kind === "refused") throw new UnreachableRemoteError(remote, verdict.reason);
  if (verdict.config.onlyCreds) return storage;
  // git-annex runs git's `gpg.program` when it is set.
  const program = (await ctx.git?.configGet("gpg.program").catch(() => null)) || undefined;
  try {
    const enc = await remoteEncryption(verdict.config, program ? { gpgProgram: program } : {});
    const refusals = await keyringRefusals(remote, enc, program);
    return new EncryptedStorage(storage, enc, {
      ...(program ? { gpgProgram: program } : {}),
      ...refusals,
    });
  } catch (e) {
    if (e instanceof CipherUnavailableError || e instanceof GpgError) {
      throw new UnreachableRemoteError(remote, e.message, e);
    }
    throw e;
  }
}
