/** The Peer conformance suite against the special-remote Peer over a directory storage. */
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { runPeerConformance } from "../conformance.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { SpecialPeer } from "./special-peer.js";

runPeerConformance(
  "SpecialPeer over a directory",
  async () => {
    const dir = await makeTempDir("annexgate-specialpeer-");
    const peer = new SpecialPeer({
      uuid: "5b6f4a36-2d4c-4a5e-9f0e-6a1c1f3e8d11",
      storage: new DirectoryStorage(dir),
    });
    return {
      peer,
      cleanup: async () => {
        await peer.close();
        await removeDir(dir);
      },
    };
  },
  // Special remotes cannot lock content (Annex/Proxy.hs answers FAILURE).
  { locking: false },
);
