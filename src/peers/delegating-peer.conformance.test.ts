/**
 * The Peer conformance suite against a bare DelegatingPeer over a local
 * repository's Peer: a decorator that adds nothing must behave exactly as
 * the Peer inside, operation by operation.
 */
import { gitAnnexRepo, makeTempDir, removeDir } from "../../test/helpers/index.js";
import { runPeerConformance } from "./conformance.js";
import { DelegatingPeer } from "./delegating-peer.js";
import { openLocalRepository } from "./local/repository.js";

runPeerConformance("DelegatingPeer", async () => {
  const dir = await makeTempDir("annexgate-delegating-");
  await gitAnnexRepo(dir, "local");
  const repo = await openLocalRepository(dir, { commitDelayMs: 50 });
  return {
    peer: new DelegatingPeer(repo.peer),
    cleanup: async () => {
      await repo.close();
      await removeDir(dir);
    },
  };
});
