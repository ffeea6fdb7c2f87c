/**
 * An S3 special remote's credentials, found where git-annex finds them
 * (Creds.hs getRemoteCredPair, with Remote/Helper/AWS.hs creds): the
 * environment (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, both set),
 * else the gateway repository's cache `.git/annex/creds/<remote uuid>`
 * (login and secret, one a line), else the `s3creds=` field that
 * `embedcreds=yes` puts in remote.log (base64 of the same two lines; on
 * an encrypted remote, of a gpg message of them encrypted as content is:
 * symmetric with the cipher for shared and hybrid, to the public keys for
 * pubkey and sharedpubkey, even with `onlyencryptcreds=yes`). The cipher
 * of a hybrid or pubkey remote, and the credentials of a pubkey or
 * sharedpubkey one, are decrypted with a secret key of the gateway's gpg
 * keyring, as stock does (Creds.hs getRemoteCredPair).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SpecialRemoteConfig } from "../../remotes/index.js";
import { type CipherConfig, cipherConfigOf } from "../special/cipher-config.js";
import { GpgError, gpgWhole } from "../special/gpg.js";
import { CipherUnavailableError, remoteEncryption } from "../special/remote-cipher.js";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where credentials are looked for, each optional so tests can give only some. */
export interface CredentialSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The gateway repository's git directory (its `annex/creds/` is the cache). */
  readonly gitDir?: string;
  /** The gpg program embedded credentials are decrypted with (git's `gpg.program`), else `gpg`. */
  readonly gpgProgram?: string;
}

/** No usable credentials; the message is git-annex's, and names no path. */
export class S3CredentialsError extends Error {}

/** git-annex's words when no credentials are found (needS3Creds, giveupS3HandleProblem). */
export const MISSING_S3_CREDENTIALS =
  "No S3 credentials configured: Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to use S3";

/**
 * The credentials of the S3 remote `uuid`, from the first source that has
 * them.
 *
 * @throws S3CredentialsError when none has them, or they cannot be read.
 */
export async function findS3Credentials(
  uuid: string,
  config: SpecialRemoteConfig,
  sources: CredentialSources,
): Promise<S3Credentials> {
  const env = sources.env ?? {};
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (id !== undefined && secret !== undefined) return { accessKeyId: id, secretAccessKey: secret };
  const cached = sources.gitDir !== undefined ? await readCache(sources.gitDir, uuid) : null;
  if (cached !== null) return cached;
  const embedded = config.fields.s3creds;
  if (embedded !== undefined) return await fromEmbedded(embedded, config, sources.gpgProgram);
  throw new S3CredentialsError(MISSING_S3_CREDENTIALS);
}

async function readCache(gitDir: string, uuid: string): Promise<S3Credentials | null> {
  // A UUID is the file's name: one with a path separator is no UUID git-annex wrote.
  if (uuid === "" || /[/\\]|^\.\.?$/.test(uuid)) return null;
  const text = await readFile(join(gitDir, "annex", "creds", uuid), "utf8").catch(() => null);
  // git-annex reads an unreadable or malformed cache as no cache.
  return text === null ? null : decodeCredPair(text);
}

/**
 * When credentials of a remote with gpg keys do not decrypt, git-annex
 * stops, calling the storage insecure (Creds.hs); this says why.
 */
export const INSECURE_CREDENTIALS =
  "Insecure credentials storage detected for this remote: the embedded credentials are not encrypted with its cipher";

async function fromEmbedded(
  value: string,
  config: SpecialRemoteConfig,
  gpgProgram: string | undefined,
): Promise<S3Credentials> {
  const verdict = cipherConfigOf(config);
  if (verdict.kind === "refused") throw new S3CredentialsError(verdict.reason);
  const stored = Buffer.from(value, "base64");
  const text =
    verdict.kind === "cipher" ? await decrypted(stored, verdict.config, gpgProgram) : stored;
  const pair = decodeCredPair(text.toString("utf8"));
  if (pair === null) throw new S3CredentialsError("bad creds");
  return pair;
}

/** Embedded credentials decrypted as git-annex decrypts them, with the remote's cipher. */
async function decrypted(
  stored: Buffer,
  cfg: CipherConfig,
  gpgProgram: string | undefined,
): Promise<Buffer> {
  const program = gpgProgram === undefined ? {} : { gpgProgram };
  const enc = await remoteEncryption(cfg, program).catch((e: unknown) => {
    if (e instanceof CipherUnavailableError) throw new S3CredentialsError(e.message);
    throw e;
  });
  const opts = {
    keying: enc.keying,
    userOptions: enc.decryptOptions,
    ...(gpgProgram === undefined ? {} : { program: gpgProgram }),
  };
  return gpgWhole("decrypt", opts, stored).catch((err: unknown) => {
    if (!(err instanceof GpgError)) throw err;
    if (err.data.failure === "missing" || err.data.failure === "no-secret-key") {
      throw new S3CredentialsError(`embedded credentials: ${err.message}`);
    }
    // An old git-annex stored them unencrypted on a shared-cipher remote;
    // stock reads those as plain. With a gpg key it calls that insecure
    // and stops.
    if (enc.method === "shared") return stored;
    throw new S3CredentialsError(INSECURE_CREDENTIALS);
  });
}

/** Creds.hs decodeCredPair: exactly two lines, login then secret. */
export function decodeCredPair(text: string): S3Credentials | null {
  // Haskell's `lines`: a final newline ends the last line, it does not add one.
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length !== 2) return null;
  const [accessKeyId = "", secretAccessKey = ""] = lines;
  return { accessKeyId, secretAccessKey };
}
