/**
 * The Peer conformance suite against the chunked special-remote Peer over
 * a directory storage, chunks of 64 KiB, so the larger samples span several,
 * and a chunk log held in memory.
 */
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { runPeerConformance } from "../conformance.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { MemoryChunkLog } from "./chunk-log.fixture.js";
import { ChunkedPeer } from "./chunked-peer.js";
import { SpecialPeer } from "./special-peer.js";

const UUID = "5b6f4a36-2d4c-4a5e-9f0e-6a1c1f3e8d11";

runPeerConformance(
  "ChunkedPeer over a directory",
  async () => {
    const dir = await makeTempDir("annexgate-chunkedpeer-");
    const storage = new DirectoryStorage(dir);
    const peer = new ChunkedPeer({
      uuid: UUID,
      storage,
      whole: new SpecialPeer({ uuid: UUID, storage }),
      chunkSize: 64 * 1024,
      chunkLog: new MemoryChunkLog(),
    });
    return {
      peer,
      cleanup: async () => {
        await peer.close();
        await removeDir(dir);
      },
    };
  },
  // A cut-off chunked store removes what it wrote (nothing unverified stays), so putOffset stays 0.
  { locking: false, resume: false },
);
