/**
 * @module remotes — a repository's remotes and what its gateway serves, as
 * git-annex derives them from git config and the git-annex branch
 * (proxy.log, cluster.log): the remote list (proxied remotes included),
 * routing of a request by UUID, and the nodes of a cluster.
 */
export {
  CHEAP_REMOTE_COST,
  clustersOfConfig,
  EXPENSIVE_REMOTE_COST,
  gatewayConfigFrom,
  learnLocalRemoteUuids,
  loadGatewayConfig,
} from "./load.js";
export { isP2PHttpUrl } from "./location.js";
export {
  clusterNodesFor,
  notProxiedReason,
  proxiedRemoteFor,
  proxyIsConfigured,
  routeFor,
} from "./route.js";
export { remotesInListOrder } from "./special.js";
export type {
  GatewayConfig,
  ProxyEntry,
  Remote,
  RemoteTransport,
  Route,
  SpecialRemoteConfig,
} from "./types.js";
