/**
 * Remotes reached over ssh: `git-annex-shell p2pstdio` on the far side
 * (stock git-annex's or annexgate's), spoken to with the line protocol.
 */
import { LinePeer } from "../line/line-peer.js";
import { gitAnnexShellCommand } from "../line/shell-command.js";
import type { PeerKind } from "../registry.js";

export const sshKind: PeerKind<"ssh"> = {
  kind: "ssh",
  async open(remote, transport, ctx) {
    const spec = gitAnnexShellCommand({
      dir: transport.path,
      clientUuid: ctx.gatewayUuid,
      uuid: remote.uuid,
      host: transport.host,
      ...(transport.port !== undefined ? { sshOptions: ["-p", String(transport.port)] } : {}),
    });
    const peer = new LinePeer({
      ...spec,
      uuid: remote.uuid,
      ...(ctx.maxConnections !== undefined ? { maxConnections: ctx.maxConnections } : {}),
      ...(ctx.stallTimeoutMs !== undefined ? { stallTimeoutMs: ctx.stallTimeoutMs } : {}),
      ...(ctx.logger ? { logger: ctx.logger } : {}),
    });
    return { peer, close: () => peer.close() };
  },
};
