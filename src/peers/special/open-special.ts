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
import { EncryptedStorage } from "./encrypted-storage.js";
import { encryptionOf } from "./shared-cipher.js";
import { SpecialPeer } from "./special-peer.js";
import type { SpecialStorage } from "./storage.js";

/** The storage as the Peer sees it: plain content, under the content's own key names. */
async function plainView(
  remote: Remote,
  special: SpecialRemoteConfig,
  storage: SpecialStorage,
  ctx: PeerOpenContext,
): Promise<SpecialStorage> {
  const encryption = encryptionOf(special);
  if (encryption.kind === "none") return storage;
  if (encryption.kind === "refused") throw new UnreachableRemoteError(remote, encryption.reason);
  // git-annex runs git's `gpg.program` when it is set.
  const program = (await ctx.git?.configGet("gpg.program").catch(() => null)) ?? undefined;
  return new EncryptedStorage(storage, encryption.encryption, {
    ...(program ? { gpgProgram: program } : {}),
  });
}

export async function openSpecialPeer(
  remote: Remote,
  special: SpecialRemoteConfig,
  storage: SpecialStorage,
  ctx: PeerOpenContext,
): Promise<RemoteConnection> {
  const plain = await plainView(remote, special, storage, ctx).catch(async (e: unknown) => {
    await storage.close().catch(() => undefined);
    throw e;
  });
  const peer = new SpecialPeer({ uuid: remote.uuid, storage: plain });
  return { peer, close: () => peer.close() };
}
