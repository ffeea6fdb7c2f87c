/** @module peers — the Peer interface and its implementations. */
export { LocalPeer, type LocalPeerOptions, monotonicSeconds } from "./local/local-peer.js";
export { type LocalRepository, openLocalRepository } from "./local/repository.js";
export * from "./peer.js";
