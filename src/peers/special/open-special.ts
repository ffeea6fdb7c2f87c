/**
 * The one place a special remote's storage becomes a Peer, whatever its
 * kind (directory, S3, ...): each kind opens its storage and hands it
 * here, with the remote's remote.log configuration. The features that sit
 * above the storage seam (chunking, encryption, export) are composed here,
 * once for every kind, not in each kind's module.
 */
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import type { PeerOpenContext, RemoteConnection } from "../registry.js";
import { exportNaming } from "./open-export.js";
import { SpecialPeer } from "./special-peer.js";
import type { SpecialStorage } from "./storage.js";

export async function openSpecialPeer(
  remote: Remote,
  special: SpecialRemoteConfig,
  storage: SpecialStorage,
  ctx: PeerOpenContext,
): Promise<RemoteConnection> {
  const named = exportNaming(remote, special, storage, ctx);
  const peer = new SpecialPeer({ uuid: remote.uuid, storage: named });
  return { peer, close: () => peer.close() };
}
