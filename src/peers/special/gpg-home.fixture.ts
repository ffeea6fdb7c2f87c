/**
 * A gpg home of its own for tests that run gpg: nothing is read from or
 * left in the user's, and the gpg-agent gpg starts there is stopped after.
 */
import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { promisify } from "node:util";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";

export async function useTempGpgHome(): Promise<() => Promise<void>> {
  const home = await makeTempDir("annexgate-gnupg-");
  await chmod(home, 0o700);
  const previous = process.env.GNUPGHOME;
  process.env.GNUPGHOME = home;
  return async () => {
    await promisify(execFile)("gpgconf", ["--kill", "gpg-agent"], {
      env: { ...process.env, GNUPGHOME: home },
    }).catch(() => undefined);
    if (previous === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = previous;
    await removeDir(home);
  };
}
