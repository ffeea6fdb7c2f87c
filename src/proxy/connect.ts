/**
 * How the gateway reaches one of its remotes, by the remote's transport:
 * a repository on this machine is opened in-process (what
 * `git-annex-shell p2pstdio` would do, minus the process), an ssh remote
 * through `git-annex-shell p2pstdio` over ssh (stock git-annex's or
 * annexgate's), a p2phttp remote over HTTP (which stock git-annex cannot
 * proxy to yet).
 */
import { AnnexgateError } from "../errors.js";
import {
  gitAnnexShellCommand,
  HttpPeer,
  LinePeer,
  type LocalRepository,
  openLocalRepository,
  type Peer,
} from "../peers/index.js";
import type { Remote } from "../remotes/types.js";

export class UnreachableRemoteError extends AnnexgateError {
  constructor(remote: Remote, reason: string) {
    super("AG_UNREACHABLE_REMOTE", `cannot reach remote ${remote.name}: ${reason}`, {
      remote: remote.name,
      uuid: remote.uuid,
    });
  }
}

export interface ConnectOptions {
  /** This gateway's UUID: the client UUID the nodes see. */
  readonly gatewayUuid: string;
  /** Commit delay for repositories opened in-process (ms). */
  readonly commitDelayMs?: number;
  /** Requests to one node at once (connections or sockets). */
  readonly maxConnections?: number;
  readonly log?: (line: string) => void;
}

/** An open connection to a remote, closed with the gateway. */
export interface RemoteConnection {
  readonly peer: Peer;
  close(): Promise<void>;
}

export async function connectRemote(remote: Remote, o: ConnectOptions): Promise<RemoteConnection> {
  const t = remote.transport;
  switch (t.kind) {
    case "local": {
      const repo: LocalRepository = await openLocalRepository(t.path, {
        ...(o.commitDelayMs !== undefined ? { commitDelayMs: o.commitDelayMs } : {}),
        onCommitError: (e) => o.log?.(`commit of git-annex branch in ${t.path} failed: ${e}`),
      });
      if (repo.uuid !== remote.uuid) {
        await repo.close();
        throw new UnreachableRemoteError(
          remote,
          `expected repository UUID ${remote.uuid} but found UUID ${repo.uuid}`,
        );
      }
      return { peer: repo.peer, close: () => repo.close() };
    }
    case "ssh": {
      const spec = gitAnnexShellCommand({
        dir: t.path,
        clientUuid: o.gatewayUuid,
        uuid: remote.uuid,
        host: t.host,
        ...(t.port !== undefined ? { sshOptions: ["-p", String(t.port)] } : {}),
      });
      const peer = new LinePeer({
        ...spec,
        uuid: remote.uuid,
        ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
        ...(o.log ? { log: o.log } : {}),
      });
      return { peer, close: () => peer.close() };
    }
    case "p2phttp": {
      const peer = new HttpPeer({
        url: t.url,
        uuid: remote.uuid,
        clientUuid: o.gatewayUuid,
        ...(o.maxConnections !== undefined ? { maxSockets: o.maxConnections } : {}),
        ...(o.log ? { log: o.log } : {}),
      });
      return { peer, close: () => peer.close() };
    }
    case "unsupported":
      throw new UnreachableRemoteError(remote, t.reason);
  }
}
