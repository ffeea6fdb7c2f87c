/** @module peers — the Peer interface and its implementations. */
export { HttpPeer, type HttpPeerOptions, parseP2pHttpUrl } from "./http/http-peer.js";
export {
  gitAnnexShellCommand,
  LinePeer,
  type LinePeerOptions,
} from "./line/line-peer.js";
export { LocalPeer, type LocalPeerOptions, monotonicSeconds } from "./local/local-peer.js";
export { type LocalRepository, openLocalRepository } from "./local/repository.js";
export * from "./peer.js";
