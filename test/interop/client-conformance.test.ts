/**
 * The client library's conformance: the Peer conformance suite run through
 * `annexgate/client` (fetch and web streams, as in a browser) against
 * annexgate's p2phttp server and stock `git annex p2phttp`, at API
 * versions 2, 3 and 4.
 */
import { connect } from "../../src/client/index.js";
import { runPeerConformance } from "../../src/peers/conformance.js";
import type { ApiVersion } from "../../src/protocol/index.js";
import { ClientPeer } from "../helpers/client-peer.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { type RunningP2pHttp, startAnnexgate, startStockP2pHttp } from "../helpers/servers.js";

function throughClient(
  label: string,
  version: ApiVersion,
  start: (repo: string) => Promise<RunningP2pHttp>,
): () => Promise<{ peer: ClientPeer; cleanup(): Promise<void> }> {
  return async () => {
    const dir = await makeTempDir(`annexgate-client-${label}-v${version}-`);
    await gitAnnexRepo(dir, label);
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    const server = await start(dir);
    const client = await connect({
      url: `annex+http://127.0.0.1:${server.port}/git-annex/`,
      uuid,
      maxVersion: version,
      maxRequests: 4, // the servers run with --jobs 4
      // Well under a case's 60 s (see peer-conformance-http): stock can
      // leave a request unanswered after another one broke off.
      stallTimeoutMs: 15_000,
      timeoutMs: 15_000,
    });
    const peer = new ClientPeer(client);
    return {
      peer,
      cleanup: async () => {
        await peer.close();
        await server.stop();
        await removeDir(dir);
      },
    };
  };
}

for (const version of [4, 3, 2] as const) {
  runPeerConformance(
    `annexgate/client v${version} -> annexgate p2phttp`,
    throughClient("annexgate", version, (repo) => startAnnexgate(repo)),
    { dataPresent: version >= 4, timestamps: version >= 3 },
  );
  runPeerConformance(
    `annexgate/client v${version} -> stock git annex p2phttp`,
    throughClient("stock", version, (repo) => startStockP2pHttp(repo)),
    { dataPresent: version >= 4, timestamps: version >= 3 },
  );
}
