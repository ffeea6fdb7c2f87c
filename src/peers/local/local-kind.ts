/**
 * Remotes that are repositories on this machine: opened in-process (what
 * `git-annex-shell p2pstdio` would do, minus the process), and refused when
 * the repository found there is not the one the remote names.
 */
import { errorText } from "../../util/index.js";
import type { PeerKind } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { openLocalRepository } from "./repository.js";

export const localKind: PeerKind<"local"> = {
  kind: "local",
  async open(remote, transport, ctx) {
    const repo = await openLocalRepository(transport.path, {
      ...(ctx.commitDelayMs !== undefined ? { commitDelayMs: ctx.commitDelayMs } : {}),
      ...(ctx.tmpReclaim ? { tmpReclaim: ctx.tmpReclaim } : {}),
      ...(ctx.logger ? { logger: ctx.logger } : {}),
      onCommitError: (e) =>
        ctx.logger?.error(
          { repo: transport.path, err: errorText(e) },
          "commit of the git-annex branch failed",
        ),
    });
    if (repo.uuid !== remote.uuid) {
      await repo.close();
      throw new UnreachableRemoteError(
        remote,
        `expected repository UUID ${remote.uuid} but found UUID ${repo.uuid}`,
      );
    }
    return { peer: repo.peer, close: () => repo.close() };
  },
};
