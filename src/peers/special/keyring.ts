/**
 * What the gateway's gpg keyring (GNUPGHOME, or gpg's default home) holds
 * of a remote's gpg keys: asked when a remote whose content is encrypted
 * to public keys is opened, so that a store the keyring cannot encrypt,
 * or a retrieval it cannot decrypt, is refused with the remote's name and
 * the missing keys, as stock's gpg would fail, rather than failing deep
 * in a transfer. gpg answers with its exit status; its output is not read.
 */
import { spawn } from "node:child_process";
import { GpgError } from "./gpg.js";

/** Whether gpg lists a key of `kind` for `id` (a key id, as remote.log records it). */
function listed(kind: "public" | "secret", id: string, program: string): Promise<boolean> {
  const list = kind === "public" ? "--list-public-keys" : "--list-secret-keys";
  // `--` ends the options: a key id is never read as one.
  const args = ["--quiet", "--batch", "--with-colons", list, "--", id];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: "ignore" });
    child.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "ENOENT"
          ? new GpgError("gpg is not installed; an encrypted special remote needs it", {
              failure: "missing",
            })
          : e,
      );
    });
    child.once("close", (code) => resolve(code === 0));
  });
}

/** The ids among `ids` whose public key the keyring lacks. */
export async function missingPublicKeys(
  ids: readonly string[],
  program = "gpg",
): Promise<string[]> {
  const unique = [...new Set(ids)];
  const found = await Promise.all(unique.map((id) => listed("public", id, program)));
  return unique.filter((_, i) => found[i] !== true);
}

/** Whether the keyring holds the secret key of any of `ids` (one decrypts what is encrypted to all). */
export async function holdsAnySecretKey(ids: readonly string[], program = "gpg"): Promise<boolean> {
  const found = await Promise.all([...new Set(ids)].map((id) => listed("secret", id, program)));
  return found.includes(true);
}
