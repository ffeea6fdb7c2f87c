/**
 * Directory special remotes (`type=directory`): a SpecialPeer over the
 * remote's directory, `remote.NAME.annex-directory` (git-annex keeps it in
 * git config, not remote.log, so it may differ between machines).
 * Refused at open, with a reason that names no path of this machine:
 * legacy-chunked remotes, an encryption git-annex would not read or whose
 * cipher the gateway's gpg keyring cannot decrypt, no directory configured (git-annex: "missing directory"), a
 * directory that is not there.
 */
import { stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type { Git } from "../../git/index.js";
import { parseSize } from "../../sizes/index.js";
import type { PeerKind } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { openSpecialPeer } from "../special/open-special.js";
import { unsupportedSpecialFeature } from "../special/special-config.js";
import { DEFAULT_DISK_RESERVE, DirectoryStorage } from "./directory-storage.js";

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (st) => st.isDirectory(),
    () => false,
  );
}

/** The gateway's `annex.diskreserve`, or git-annex's default when unset or unreadable. */
async function diskReserve(git: Git | undefined): Promise<bigint> {
  const text = await git?.configGet("annex.diskreserve").catch(() => null);
  if (text === undefined || text === null) return DEFAULT_DISK_RESERVE;
  try {
    return parseSize(text);
  } catch {
    return DEFAULT_DISK_RESERVE;
  }
}

export const directoryKind: PeerKind<"directory"> = {
  kind: "directory",
  async open(remote, transport, ctx) {
    const unsupported = unsupportedSpecialFeature(transport.special);
    if (unsupported !== null) throw new UnreachableRemoteError(remote, unsupported);
    const dir = transport.directory;
    if (dir === "") throw new UnreachableRemoteError(remote, "missing directory");
    // git-annex records the absolute path; a relative one would depend on
    // the gateway's working directory.
    if (!isAbsolute(dir)) {
      throw new UnreachableRemoteError(remote, "the directory is not an absolute path");
    }
    if (!(await isDirectory(dir))) {
      throw new UnreachableRemoteError(remote, "the directory is not accessible");
    }
    const storage = new DirectoryStorage(dir, { diskReserve: await diskReserve(ctx.git) });
    return openSpecialPeer(remote, transport.special, storage, ctx);
  },
};
