/**
 * The gateway's own copy of a cluster's content, in one place.
 *
 * A cluster gateway is not a node of its cluster (git-annex tips/clusters,
 * Annex/Cluster.hs): its repository may hold a copy, but
 *
 * - an upload to the cluster leaves one there only when the gateway's own
 *   preferred content is set explicitly and wants the key (no expression
 *   means "no copy", not git-annex's usual "wants everything");
 * - that copy is never the cluster's copy: it does not make the cluster
 *   have the key (checkpresent, store, putoffset answers), and its removal
 *   succeeding or failing does not decide a cluster remove;
 * - when it is there it is read first, being the cheapest there is
 *   ({@link GATEWAY_COST});
 * - it is named in a cluster's answers (the -PLUS UUIDs) only when a copy
 *   really went there or went away: stock git-annex never touches the
 *   gateway, so a gateway without a copy must answer exactly as stock.
 */
import type { Policy } from "../preferred-content/index.js";

/** The cost of reading from the gateway's own repository: below any node's. */
export const GATEWAY_COST = 0;

/** Who a cluster is: its UUID and its gateway's. */
export interface ClusterIdentity {
  readonly clusterUuid: string;
  readonly gatewayUuid: string;
}

/**
 * Whether the gateway may take a copy of an upload at all: only when its
 * own preferred content is set explicitly. Whether it then wants this key
 * is its expression's answer.
 */
export function gatewayMayKeepCopy(policy: Policy, gatewayUuid: string): boolean {
  return policy.snapshot.preferred.has(gatewayUuid);
}

/**
 * Whether a repository holding the key counts as the cluster holding it:
 * any node does; the gateway does not, and neither does the cluster's own
 * UUID (a node's answer may name it).
 */
export function isClusterCopy(uuid: string, cluster: ClusterIdentity): boolean {
  return uuid !== cluster.clusterUuid && uuid !== cluster.gatewayUuid;
}
