/**
 * `git-annex-shell p2pstdio`'s session (see shell.ts, which checks the
 * login and loads this module only for a session): the repository, or a
 * remote it proxies for, served in the P2P protocol on stdio.
 */
import type { Readable, Writable } from "node:stream";
import { readUuidDescriptions } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { type LocalRepository, openLocalRepository, type Peer } from "../peers/index.js";
import { MessageChannel } from "../protocol/index.js";
import type { Gateway } from "../proxy/index.js";
import { gitServiceRunner, LineServerError, type ServeMode, serveLine } from "../server/index.js";
import { ShellError } from "./shell-error.js";

/** A p2pstdio session commits the git-annex branch at its end, or after this long. */
const SESSION_COMMIT_DELAY_MS = 60_000;

export interface P2pStdioSession {
  readonly git: Git;
  /** The repository's own UUID. */
  readonly uuid: string;
  readonly clientUuid: string;
  /** The UUID asked for when it is another repository's (one this proxies for), else null. */
  readonly proxiedUuid: string | null;
  readonly mode: ServeMode;
  /** GIT_ANNEX_SHELL_LIMITED: no CONNECT to git. */
  readonly limited: boolean;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * The Peer for a UUID the repository proxies for; else git-annex-shell's
 * refusal (Annex/Proxy.hs checkCanProxy): "not configured to proxy" for a
 * repository it knows of, the UUID mismatch otherwise.
 */
async function proxiedPeer(
  gateway: Gateway,
  repo: LocalRepository,
  uuid: string,
  found: string,
): Promise<Peer> {
  const peer = await gateway.lookup(uuid);
  if (peer) return peer;
  const { notProxiedReason } = await import("../remotes/index.js");
  const reason = notProxiedReason(
    await gateway.config(),
    uuid,
    await readUuidDescriptions(repo.branch),
  );
  throw new ShellError(reason ?? `expected repository UUID ${uuid} but found UUID ${found}`);
}

/** Serves the session to its end; the exit status. */
export async function serveP2pStdio(s: P2pStdioSession): Promise<number> {
  const repo = await openLocalRepository(s.git.dir, {
    // As git-annex-shell does, commit the journal when the session ends
    // (readers see the journal meanwhile), rather than every second from
    // each of a -J client's connections, each staging the whole journal.
    commitDelayMs: SESSION_COMMIT_DELAY_MS,
    onCommitError: (e) => s.stderr.write(`git-annex: committing the git-annex branch: ${e}\n`),
    opened: { git: s.git, uuid: s.uuid },
  });
  // The gateway's layers are loaded only for a session that needs them.
  const gateway = s.proxiedUuid !== null ? (await import("./gateway.js")).makeGateway(repo) : null;
  let peer: Peer = repo.peer;
  try {
    if (gateway !== null) peer = await proxiedPeer(gateway, repo, s.proxiedUuid as string, s.uuid);
  } catch (e) {
    await gateway?.close();
    await repo.close();
    throw e;
  }
  const channel = new MessageChannel(s.stdin, s.stdout);
  try {
    await serveLine(channel, {
      peer,
      mode: s.mode,
      clientUuid: s.clientUuid,
      // GIT_ANNEX_SHELL_LIMITED keeps git out of reach: CONNECT is then
      // refused as stock p2pstdio refuses it (it never relays to git).
      ...(s.limited ? {} : { connect: gitServiceRunner(repo.dir) }),
      // Stock's proxy answers a CONNECT the mode refuses and goes on serving.
      continueAfterRefusedConnect: gateway !== null,
    });
    return 0;
  } catch (e) {
    if (!(e instanceof LineServerError)) throw e;
    s.stderr.write(`git-annex: ${e.message}\np2pstdio: 1 failed\n`);
    return 1;
  } finally {
    await channel.close().catch(() => undefined);
    await gateway?.close();
    await repo.close();
  }
}
