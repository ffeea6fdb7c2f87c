/**
 * An S3 special remote's credentials, found where git-annex finds them
 * (Creds.hs getRemoteCredPair, with Remote/Helper/AWS.hs creds): the
 * environment (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, both set),
 * else the gateway repository's cache `.git/annex/creds/<remote uuid>`
 * (login and secret, one a line), else the `s3creds=` field that
 * `embedcreds=yes` puts in remote.log (base64 of the same two lines; of a
 * gpg message of them, encrypted with the cipher, on an encryption=shared
 * remote). Embedded credentials of a remote whose cipher needs a secret
 * key (hybrid, pubkey) are refused: the gateway cannot decrypt them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SpecialRemoteConfig } from "../../remotes/index.js";
import { GpgError, gpgDecryptBytes } from "../special/gpg.js";
import { encryptionOf } from "../special/shared-cipher.js";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where credentials are looked for, each optional so tests can give only some. */
export interface CredentialSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The gateway repository's git directory (its `annex/creds/` is the cache). */
  readonly gitDir?: string;
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
  if (embedded !== undefined) return await fromEmbedded(embedded, config);
  throw new S3CredentialsError(MISSING_S3_CREDENTIALS);
}

async function readCache(gitDir: string, uuid: string): Promise<S3Credentials | null> {
  // A UUID is the file's name: one with a path separator is no UUID git-annex wrote.
  if (uuid === "" || /[/\\]|^\.\.?$/.test(uuid)) return null;
  const text = await readFile(join(gitDir, "annex", "creds", uuid), "utf8").catch(() => null);
  // git-annex reads an unreadable or malformed cache as no cache.
  return text === null ? null : decodeCredPair(text);
}

async function fromEmbedded(value: string, config: SpecialRemoteConfig): Promise<S3Credentials> {
  const encryption = encryptionOf(config);
  if (encryption.kind === "refused") {
    throw new S3CredentialsError("encrypted embedded S3 credentials are not supported yet");
  }
  const stored = Buffer.from(value, "base64");
  let text = stored.toString("utf8");
  if (encryption.kind === "shared") {
    const e = encryption.encryption;
    // An old git-annex stored them unencrypted on a shared-cipher remote;
    // stock reads those as plain when gpg cannot decrypt them (Creds.hs).
    const plain = await gpgDecryptBytes(
      { passphrase: e.passphrase, userOptions: e.decryptOptions },
      stored,
    ).catch((err: unknown) => {
      if (err instanceof GpgError && err.data.failure === "missing") {
        throw new S3CredentialsError(err.message);
      }
      return null;
    });
    if (plain !== null) text = plain.toString("utf8");
  }
  const pair = decodeCredPair(text);
  if (pair === null) throw new S3CredentialsError("bad creds");
  return pair;
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
