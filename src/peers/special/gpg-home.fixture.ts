/**
 * A gpg home of its own for tests that run gpg: nothing is read from or
 * left in the user's, and the gpg-agent gpg starts there is stopped after.
 * Keys are generated in it on demand (no passphrase, gpg's default
 * algorithm: a second or less), and a home can be given only the public
 * half of another's key, to play a gateway that holds no secret key.
 */
import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { promisify } from "node:util";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";

const exec = promisify(execFile);

/** gpg in `home` (`--batch --quiet` and `args`) on `input`; its stdout. */
export async function gpgCli(
  args: readonly string[],
  opts: { readonly home?: string; readonly input?: Buffer } = {},
): Promise<Buffer> {
  const home = opts.home ?? process.env.GNUPGHOME;
  const run = exec("gpg", ["--batch", "--quiet", ...args], {
    env: { ...process.env, ...(home !== undefined ? { GNUPGHOME: home } : {}) },
    encoding: "buffer",
    maxBuffer: 16 * 1024 * 1024,
  });
  run.child.stdin?.end(opts.input);
  return (await run).stdout;
}

/**
 * `input` encrypted to `keyIds` as git-annex encrypts a cipher or content
 * to public keys (Crypto.hs encryptCipher, Utility/Gpg.hs pkEncTo and
 * stdEncryptionParams False), by the gpg command line, not annexgate's code.
 */
export function encryptToKeys(keyIds: readonly string[], input: Buffer, home?: string) {
  const to = keyIds.flatMap((k) => ["--recipient", k]);
  const enc = ["--encrypt", "--no-encrypt-to", "--no-default-recipient"];
  return gpgCli(["--trust-model", "always", ...to, ...enc, "--force-mdc", "--no-textmode"], {
    input,
    ...(home !== undefined ? { home } : {}),
  });
}

/** A random cipher as git-annex makes one (Utility/Gpg.hs genRandom): `bytes` of entropy, armored. */
export function randomCipher(bytes: number): Promise<Buffer> {
  return gpgCli(["--gen-random", "--armor", "1", String(bytes)]);
}

/** A new private gpg home (mode 0700); returns it and how to remove it (stopping its agent). */
export async function makeGpgHome(prefix = "annexgate-gnupg-"): Promise<{
  readonly home: string;
  readonly remove: () => Promise<void>;
}> {
  const home = await makeTempDir(prefix);
  await chmod(home, 0o700);
  return {
    home,
    remove: async () => {
      await exec("gpgconf", ["--kill", "gpg-agent"], {
        env: { ...process.env, GNUPGHOME: home },
      }).catch(() => undefined);
      await removeDir(home);
    },
  };
}

/** Sets GNUPGHOME to a new private home; the returned function restores it and removes the home. */
export async function useTempGpgHome(): Promise<() => Promise<void>> {
  const { home, remove } = await makeGpgHome();
  const previous = process.env.GNUPGHOME;
  process.env.GNUPGHOME = home;
  return async () => {
    if (previous === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = previous;
    await remove();
  };
}

/** A new key without passphrase for `userId` in `home`; returns its long key id, as git-annex records it. */
export async function generateGpgKey(home: string, userId: string): Promise<string> {
  const gen = ["--passphrase", "", "--quick-gen-key", userId, "default", "default", "never"];
  await gpgCli(gen, { home });
  const stdout = await gpgCli(["--with-colons", "--list-public-keys", userId], { home });
  // Utility/Gpg.hs findPubKeys: field 5 of the `pub` line.
  const pub = stdout
    .toString("utf8")
    .split("\n")
    .find((l) => l.startsWith("pub:"));
  const id = pub?.split(":")[4];
  if (id === undefined || id === "") throw new Error(`no key listed for ${userId}`);
  return id;
}

/** Imports the public key `keyId` of `from` into `to` (no secret key goes with it). */
export async function copyPublicKey(from: string, to: string, keyId: string): Promise<void> {
  const key = await gpgCli(["--export", keyId], { home: from });
  await gpgCli(["--import"], { home: to, input: key });
}

/** Imports the secret key `keyId` of `from` (it has no passphrase) into `to`. */
export async function copySecretKey(from: string, to: string, keyId: string): Promise<void> {
  const key = await gpgCli(["--export-secret-keys", keyId], { home: from });
  await gpgCli(["--import"], { home: to, input: key });
}
