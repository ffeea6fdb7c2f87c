/**
 * How the gateway reaches one of its remotes, by the remote's transport:
 * a repository on this machine is opened in-process (what
 * `git-annex-shell p2pstdio` would do, minus the process), an ssh remote
 * through `git-annex-shell p2pstdio` over ssh (stock git-annex's or
 * annexgate's), a p2phttp remote over HTTP (which stock git-annex cannot
 * proxy to yet).
 */
import { AnnexgateError } from "../errors.js";
import type { Git } from "../git/index.js";
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
  /** The gateway's repository, whose git credential helpers hold p2phttp passwords. */
  readonly git?: Git;
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
      const auth = o.git ? await credentialsFor(o.git, t.url) : undefined;
      const peer = new HttpPeer({
        url: t.url,
        uuid: remote.uuid,
        clientUuid: o.gatewayUuid,
        ...(auth ? { auth } : {}),
        ...(o.maxConnections !== undefined ? { maxSockets: o.maxConnections } : {}),
        ...(o.log ? { log: o.log } : {}),
      });
      return { peer, close: () => peer.close() };
    }
    case "unsupported":
      throw new UnreachableRemoteError(remote, t.reason);
  }
}

/**
 * The user and password git's credential helpers hold for a p2phttp URL,
 * asked the way git-annex asks (`git credential fill` with the annex+http
 * URL), never prompting: a gateway has no one to prompt. None when no
 * helper knows the URL.
 */
export async function credentialsFor(
  git: Git,
  url: string,
): Promise<{ user: string; password: string } | undefined> {
  let out: string;
  try {
    out = (
      await git.run(["credential", "fill"], {
        input: `url=${url.replace(/\/+$/, "")}\n\n`,
        env: { GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "" },
      })
    ).toString("utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) =>
    out
      .split("\n")
      .find((l) => l.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  const user = field("username");
  const password = field("password");
  return user !== undefined && password !== undefined ? { user, password } : undefined;
}
