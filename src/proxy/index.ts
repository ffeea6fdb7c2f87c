/**
 * @module proxy — Peers made of Peers: a remote the gateway proxies for
 * (recording location changes on the gateway's branch), a cluster of nodes
 * (fan-out store, pick-one retrieve, remove-from-all), and the gateway that
 * builds them from the repository's configuration.
 */
export {
  type ClusterNode,
  ClusterPeer,
  type ClusterPeerOptions,
  type Placement,
  type PlacementDecision,
  type SpaceHold,
} from "./cluster-peer.js";
export { type ConnectOptions, connectRemote } from "./connect.js";
export { RemoteConnections } from "./connections.js";
export { FanOut } from "./fan-out.js";
export { Gateway, type GatewayOptions, type GatewayRouting } from "./gateway.js";
export type { ClusterOverview, GatewayOverview, NodeOverview } from "./gateway-overview.js";
export {
  DEFAULT_INDIRECT_SETTINGS,
  type IndirectCandidate,
  type IndirectClient,
  type IndirectSettings,
  IndirectUploads,
} from "./indirect-uploads.js";
export {
  isFailure,
  type NodeLabel,
  type NodeObserver,
  type NodeOperation,
  type NodeOutcome,
} from "./node-observer.js";
export type { NodeReachability } from "./node-probes.js";
export { type LocationRecorder, ProxiedPeer, type ProxiedPeerOptions } from "./proxied-peer.js";
