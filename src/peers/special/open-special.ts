/**
 * The one place a special remote's storage becomes a Peer, whatever its
 * kind (directory, S3, ...): each kind opens its storage and hands it
 * here, with the remote's remote.log configuration. The features that sit
 * above the storage seam (chunking, encryption, export) are composed here,
 * once for every kind, not in each kind's module, in git-annex's order:
 * content is cut into chunks first, then each chunk is encrypted.
 */
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import type { PeerOpenContext, RemoteConnection } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { ChunkedPeer } from "./chunked-peer.js";
import { plainView } from "./open-encryption.js";
import { exportNaming, isExportRemote } from "./open-export.js";
import { chunkConfig } from "./special-config.js";
import { SpecialPeer } from "./special-peer.js";
import type { PathStorage, SpecialStorage } from "./storage.js";

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
  // An export remote's files and annexobjects copies are whole objects:
  // git-annex's export actions ignore chunk=, and refuse encryption.
  if (isExportRemote(special)) {
    const whole = new SpecialPeer({
      uuid: remote.uuid,
      storage: exportNaming(remote, special, storage, ctx),
    });
    // exportNaming refused a storage without paths.
    const files = storage.byPath as PathStorage;
    return { peer: whole, exportFiles: files, close: () => whole.close() };
  }
  const refuse = async (reason: string): Promise<never> => {
    await storage.close().catch(() => undefined);
    throw new UnreachableRemoteError(remote, reason);
  };
  const chunking = chunkConfig(special);
  if (typeof chunking === "string") return refuse(chunking);
  if (ctx.chunkLog === undefined && chunking.chunkSize !== null) {
    return refuse(
      "a chunked special remote needs the gateway's git-annex branch for its chunk log",
    );
  }
  const plain = await plainView(remote, special, storage, ctx).catch(async (e: unknown) => {
    await storage.close().catch(() => undefined);
    throw e;
  });
  const whole = new SpecialPeer({ uuid: remote.uuid, storage: plain });
  if (ctx.chunkLog === undefined) return { peer: whole, close: () => whole.close() };
  const peer = new ChunkedPeer({
    uuid: remote.uuid,
    storage: plain,
    whole,
    chunkSize: chunking.chunkSize,
    chunkLog: ctx.chunkLog,
  });
  return { peer, close: () => peer.close() };
}
