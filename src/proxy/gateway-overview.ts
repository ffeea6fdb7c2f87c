/**
 * What a gateway serves, as an operator looks at it: the remotes it
 * proxies for and the clusters it is a gateway of, with their nodes, each
 * with its live size (stores in flight counted) against its maxsize. The
 * metrics, the readiness check and the dashboard read it.
 */
import type { LiveSizes } from "../policy/index.js";
import type { GatewayConfig, Remote } from "../remotes/index.js";
import type { GatewayRouting } from "./gateway.js";

export interface NodeOverview {
  readonly name: string;
  readonly uuid: string;
  /** Bytes the repository holds now, as the gateway counts them (stores in flight included). */
  readonly size: bigint;
  /** maxsize.log's value, or null when none is set. */
  readonly maxSize: bigint | null;
  /** Bytes being stored into it right now. */
  readonly storing: bigint;
  /** UUIDs of the clusters (of this gateway) it is a node of. */
  readonly clusters: readonly string[];
}

export interface ClusterOverview {
  readonly name: string;
  readonly uuid: string;
  /** Its nodes' UUIDs, lowest cost first. */
  readonly nodes: readonly string[];
}

export interface GatewayOverview {
  readonly uuid: string;
  /** Every repository reached through the gateway (proxied, or a cluster's node), once. */
  readonly nodes: readonly NodeOverview[];
  readonly clusters: readonly ClusterOverview[];
}

/** The remotes behind the gateway, each once: proxied ones and clusters' nodes. */
export function remotesBehind(
  cfg: GatewayConfig,
  routing: GatewayRouting,
): { remotes: Remote[]; clusters: { name: string; uuid: string; nodes: Remote[] }[] } {
  const remotes = new Map<string, Remote>();
  const clusters: { name: string; uuid: string; nodes: Remote[] }[] = [];
  const names = new Map([...cfg.clusters].map(([name, uuid]) => [uuid, name]));
  for (const entry of cfg.proxies.get(cfg.uuid) ?? []) {
    const route = routing.route(cfg, entry.uuid);
    if (route?.kind === "proxied") {
      if (!remotes.has(route.remote.uuid)) remotes.set(route.remote.uuid, route.remote);
    } else if (route?.kind === "cluster" && !clusters.some((c) => c.uuid === route.clusterUuid)) {
      const nodes = routing.clusterNodes(cfg, route.clusterUuid, new Set());
      for (const n of nodes) if (!remotes.has(n.uuid)) remotes.set(n.uuid, n);
      const name = names.get(route.clusterUuid) ?? entry.name;
      clusters.push({ name, uuid: route.clusterUuid, nodes });
    }
  }
  return { remotes: [...remotes.values()], clusters };
}

export function gatewayOverview(
  cfg: GatewayConfig,
  routing: GatewayRouting,
  live: LiveSizes,
): GatewayOverview {
  const { remotes, clusters } = remotesBehind(cfg, routing);
  const nodes = remotes.map(
    (r): NodeOverview => ({
      name: r.name,
      uuid: r.uuid,
      size: live.size(r.uuid),
      maxSize: live.maxSize(r.uuid),
      storing: live.inFlight(r.uuid).storing,
      clusters: clusters.filter((c) => c.nodes.some((n) => n.uuid === r.uuid)).map((c) => c.uuid),
    }),
  );
  return {
    uuid: cfg.uuid,
    nodes,
    clusters: clusters.map((c) => ({
      name: c.name,
      uuid: c.uuid,
      nodes: c.nodes.map((n) => n.uuid),
    })),
  };
}
