/**
 * Where a cluster's content goes and where it is read from, as git-annex
 * chooses (Annex/Cluster.hs, P2P/Proxy.hs): pure functions over the
 * candidate repositories, the key's logged locations and who wants it, so
 * the gateway, the commands and a simulator all choose the same way.
 */

/** A repository a cluster may store to or read from. */
export interface Candidate {
  readonly uuid: string;
  /** Lower is preferred for reads, as git-annex's remote cost. */
  readonly cost: number;
}

/**
 * The nodes an upload goes to (Annex/Cluster.hs proxyPUT): those that lack
 * the key and want it; when none wants it, every node lacking it; when all
 * have it, every node (each then answers that it already has it).
 *
 * @example
 * uploadTargets(nodes, new Set([a.uuid]), (u) => u === b.uuid) // [b]
 */
export function uploadTargets<T extends Candidate>(
  nodes: readonly T[],
  locations: ReadonlySet<string>,
  wants: (uuid: string) => boolean,
): T[] {
  const lacking = nodes.filter((n) => !locations.has(n.uuid));
  const wanting = lacking.filter((n) => wants(n.uuid));
  if (wanting.length > 0) return wanting;
  return lacking.length > 0 ? lacking : [...nodes];
}

/**
 * The order to ask nodes for content: those the location log lists, the
 * cheapest first and, among equally cheap ones, the least busy first; then
 * the rest in their given order, since the log can lag behind what a node
 * has.
 *
 * @example
 * readOrder(nodes, locations, (u) => retrievesRunning.get(u) ?? 0)
 */
export function readOrder<T extends Candidate>(
  nodes: readonly T[],
  locations: ReadonlySet<string>,
  load: (uuid: string) => number,
): T[] {
  const listed = nodes
    .filter((n) => locations.has(n.uuid))
    .sort((a, b) => a.cost - b.cost || load(a.uuid) - load(b.uuid));
  const others = nodes.filter((n) => !locations.has(n.uuid));
  return [...listed, ...others];
}
