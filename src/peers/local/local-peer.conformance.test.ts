/** The Peer conformance suite against the local repository Peer, over a fresh repository. */
import { gitAnnexRepo, makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { runPeerConformance } from "../conformance.js";
import { openLocalRepository } from "./repository.js";

runPeerConformance("LocalPeer", async () => {
  const dir = await makeTempDir("annexgate-localpeer-");
  await gitAnnexRepo(dir, "local");
  const repo = await openLocalRepository(dir, { commitDelayMs: 50 });
  return {
    peer: repo.peer,
    cleanup: async () => {
      await repo.close();
      await removeDir(dir);
    },
  };
});
