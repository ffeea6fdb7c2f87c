/** @module peers — the Peer interface, its implementations, and the registry of remote kinds. */
export { builtinPeerKinds } from "./builtin-kinds.js";
export { DelegatingPeer } from "./delegating-peer.js";
export { directoryKind } from "./directory/directory-kind.js";
export { DirectoryStorage } from "./directory/directory-storage.js";
export { HttpPeer, type HttpPeerOptions, parseP2pHttpUrl } from "./http/http-peer.js";
export type {
  IndirectOutcome,
  IndirectPlan,
  IndirectStaged,
  IndirectStaging,
  IndirectStorage,
  IndirectUnavailable,
  IndirectVerify,
} from "./indirect.js";
export { LinePeer, type LinePeerOptions } from "./line/line-peer.js";
export { gitAnnexShellCommand } from "./line/shell-command.js";
export { localKind } from "./local/local-kind.js";
export { LocalPeer, type LocalPeerOptions, monotonicSeconds } from "./local/local-peer.js";
export {
  BadSettingError,
  type LocalRepository,
  type LocalRepositoryOptions,
  openLocalRepository,
} from "./local/repository.js";
export { credentialsFor, p2phttpKind } from "./p2phttp/p2phttp-kind.js";
export * from "./peer.js";
export {
  type AnyPeerKind,
  DuplicatePeerKindError,
  type PeerKind,
  PeerKinds,
  type PeerOpenContext,
  type RemoteConnection,
  type RemoteKind,
  type TransportOf,
  UnknownRemoteKindError,
  UnreachableRemoteError,
} from "./registry.js";
export { s3Kind, s3KindWith } from "./s3/s3-kind.js";
export { s3UrlOrigins } from "./s3/s3-settings.js";
export type { ChunkListing, SpecialChunkLog } from "./special/chunk-log.js";
export { ChunkedPeer, type ChunkedPeerOptions } from "./special/chunked-peer.js";
export {
  annexObjectLocation,
  isSafeExportPath,
  parseCatFileBatch,
} from "./special/export-index.js";
export { isExportRemote } from "./special/open-export.js";
export { unsupportedSpecialFeature } from "./special/special-config.js";
export { SpecialPeer, type SpecialPeerOptions } from "./special/special-peer.js";
export type {
  PathStorage,
  SpecialStorage,
  StagedObject,
  StoredObject,
} from "./special/storage.js";
export { sshKind } from "./ssh/ssh-kind.js";
