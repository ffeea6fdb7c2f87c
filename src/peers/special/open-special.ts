/**
 * The one place a special remote's storage becomes a Peer, whatever its
 * kind (directory, S3, ...): each kind opens its storage and hands it
 * here, with the remote's remote.log configuration. The features that sit
 * above the storage seam (chunking, encryption, export) are composed here,
 * once for every kind, not in each kind's module.
 */
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import type { PeerOpenContext, RemoteConnection } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { ChunkedPeer } from "./chunked-peer.js";
import { chunkConfig } from "./special-config.js";
import { SpecialPeer } from "./special-peer.js";
import type { SpecialStorage } from "./storage.js";

/**
 * The Peer of a special remote over `storage`. With the gateway's chunk
 * log, every remote looks for chunked content as git-annex does (even an
 * unchunked one may hold chunks stored under an earlier configuration);
 * without it, only an unchunked remote can be served. The kinds check the
 * configuration first (unsupportedSpecialFeature), so a refusal here is
 * for a remote opened without that check.
 */
export async function openSpecialPeer(
  remote: Remote,
  special: SpecialRemoteConfig,
  storage: SpecialStorage,
  ctx: PeerOpenContext,
): Promise<RemoteConnection> {
  const chunking = chunkConfig(special);
  const refuse = async (reason: string): Promise<never> => {
    await storage.close().catch(() => undefined);
    throw new UnreachableRemoteError(remote, reason);
  };
  if (typeof chunking === "string") return refuse(chunking);
  const whole = new SpecialPeer({ uuid: remote.uuid, storage });
  if (ctx.chunkLog === undefined) {
    if (chunking.chunkSize !== null) {
      return refuse(
        "a chunked special remote needs the gateway's git-annex branch for its chunk log",
      );
    }
    return { peer: whole, close: () => whole.close() };
  }
  const peer = new ChunkedPeer({
    uuid: remote.uuid,
    storage,
    whole,
    chunkSize: chunking.chunkSize,
    chunkLog: ctx.chunkLog,
  });
  return { peer, close: () => peer.close() };
}
