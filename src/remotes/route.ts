/**
 * What the gateway serves for a UUID (Annex/Proxy.hs `checkCanProxy'`,
 * `canProxyForRemote`, `proxyForRemotes`) and which remotes are the nodes
 * of a cluster it serves (Annex/Cluster.hs `clusterProxySelector`).
 */
import { isClusterUuid } from "../keys/index.js";
import type { GatewayConfig, Remote, Route } from "./types.js";

/**
 * Whether git config lets this repository proxy for `r` (so a change to the
 * git-annex branch alone can never make it proxy): `annex-proxy`; or
 * `annex-cluster-node` naming one of this repository's clusters; or `r` is
 * proxied by a remote configured as a cluster gateway.
 */
export function proxyIsConfigured(cfg: GatewayConfig, r: Remote): boolean {
  if (r.proxy) return true;
  if (r.clusterNode.some((n) => cfg.clusters.has(n))) return true;
  const by = r.proxiedBy;
  if (by === null) return false;
  return cfg.remotes.some((p) => p.uuid === by && p.clusterGateway.length > 0);
}

/**
 * The remote a request for `uuid` goes to when this repository proxies for
 * it: the lowest-cost remote with that UUID that proxy.log lists under
 * this repository with the remote's own name, and whose proxying git
 * config allows (git-annex `canProxyForRemote`).
 */
export function proxiedRemoteFor(cfg: GatewayConfig, uuid: string): Remote | null {
  const mine = cfg.proxies.get(cfg.uuid) ?? [];
  const names = new Set(mine.filter((p) => p.uuid === uuid).map((p) => p.name));
  if (names.size === 0) return null;
  return (
    cfg.remotes.find((r) => r.uuid === uuid && names.has(r.name) && proxyIsConfigured(cfg, r)) ??
    null
  );
}

/**
 * What a request for repository `uuid` is served by, or null when this
 * repository does not serve it: itself; a cluster (a cluster UUID listed
 * in this repository's proxy.log entries and present in cluster.log); or
 * a proxied remote ({@link proxiedRemoteFor}).
 */
export function routeFor(cfg: GatewayConfig, uuid: string): Route | null {
  if (uuid === "") return null;
  if (uuid === cfg.uuid) return { kind: "self" };
  const mine = cfg.proxies.get(cfg.uuid);
  if (mine === undefined || !mine.some((p) => p.uuid === uuid)) return null;
  if (isClusterUuid(uuid)) {
    return cfg.clusterNodes.has(uuid) ? { kind: "cluster", clusterUuid: uuid } : null;
  }
  const remote = proxiedRemoteFor(cfg, uuid);
  return remote === null ? null : { kind: "proxied", remote };
}

/**
 * Why a request for `uuid` is refused, in git-annex's words, when it
 * names a described repository this gateway does not serve although it
 * proxies for something: "not configured to proxy for repository DESC".
 * Null when the request is served, when this repository proxies for
 * nothing, or when `uuid` has no description (git-annex then gives no
 * reason either).
 */
export function notProxiedReason(
  cfg: GatewayConfig,
  uuid: string,
  descriptions: ReadonlyMap<string, string>,
): string | null {
  if (routeFor(cfg, uuid) !== null) return null;
  if (!cfg.proxies.has(cfg.uuid)) return null;
  const desc = uuid === cfg.uuid ? (descriptions.get(uuid) ?? "") : descriptions.get(uuid);
  return desc === undefined ? null : `not configured to proxy for repository ${desc}`;
}

/**
 * The remotes that are the nodes of cluster `clusterUuid` at this gateway,
 * lowest cost first: remotes whose `annex-cluster-node` names this
 * repository's name for that cluster and whose UUID cluster.log lists as a
 * node; and the same cluster proxied by another gateway (a remote with the
 * cluster's UUID, proxied by a remote configured with
 * `annex-cluster-gateway` for it) unless that gateway is in `bypass`
 * (this repository's own UUID is always bypassed), which breaks cycles
 * between gateways.
 */
export function clusterNodesFor(
  cfg: GatewayConfig,
  clusterUuid: string,
  bypass: ReadonlySet<string>,
): Remote[] {
  const nodes = cfg.clusterNodes.get(clusterUuid) ?? new Set<string>();
  const skip = new Set(bypass).add(cfg.uuid);
  const isGateway = (uuid: string): boolean =>
    cfg.remotes.some((p) => p.uuid === uuid && p.clusterGateway.includes(clusterUuid));
  return cfg.remotes.filter((r) => {
    if (r.clusterNode.length > 0) {
      return r.clusterNode.some((n) => cfg.clusters.get(n) === clusterUuid) && nodes.has(r.uuid);
    }
    return (
      r.uuid === clusterUuid &&
      r.proxiedBy !== null &&
      !skip.has(r.proxiedBy) &&
      isGateway(r.proxiedBy)
    );
  });
}
