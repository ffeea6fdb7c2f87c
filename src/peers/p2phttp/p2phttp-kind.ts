/**
 * Remotes reached over the p2phttp API (an annex+http(s) URL), with the
 * password git's credential helpers hold for the URL, if any.
 */
import type { Git } from "../../git/index.js";
import { HttpPeer } from "../http/http-peer.js";
import type { PeerKind } from "../registry.js";

export const p2phttpKind: PeerKind<"p2phttp"> = {
  kind: "p2phttp",
  async open(remote, transport, ctx) {
    const auth = ctx.git ? await credentialsFor(ctx.git, transport.url) : undefined;
    const peer = new HttpPeer({
      url: transport.url,
      uuid: remote.uuid,
      clientUuid: ctx.gatewayUuid,
      ...(auth ? { auth } : {}),
      ...(ctx.maxConnections !== undefined ? { maxSockets: ctx.maxConnections } : {}),
      ...(ctx.stallTimeoutMs !== undefined ? { stallTimeoutMs: ctx.stallTimeoutMs } : {}),
      ...(ctx.logger ? { logger: ctx.logger } : {}),
    });
    return { peer, close: () => peer.close() };
  },
};

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
    // `git credential fill` fails when no helper knows the URL and it may
    // not prompt: that is "no credentials", and the server's 401 says so.
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
