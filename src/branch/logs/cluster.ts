/**
 * cluster.log (Logs/Cluster/Basic.hs): for each cluster, its nodes, as
 * "<clock> <cluster uuid> <node uuid> <node uuid> ..." in the new
 * UUID-based format (map-log.ts). A node is a repository or another
 * cluster. Only lines whose key is a cluster UUID count.
 */
import { isClusterUuid, parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { BranchError } from "../errors.js";
import { currentClock, type TimeClock } from "./clock.js";
import {
  changeMapLog,
  formatMapLog,
  type LogEntry,
  type MapLog,
  parseMapLog,
  parseWords,
} from "./map-log.js";
import { byteOrder } from "./presence.js";
import { readDeadUuids } from "./trust.js";

/** The branch path of the cluster log. */
export const CLUSTER_LOG = "cluster.log";

function sortedUnique(uuids: Iterable<string>): string[] {
  return [...new Set(uuids)].sort(byteOrder);
}

function parseNodeList(s: string): string[] | null {
  const words = parseWords(s, (text, at) => {
    let end = text.indexOf(" ", at);
    if (end < 0) end = text.length;
    return end === at ? null : { word: text.slice(at, end), end };
  });
  return words === null ? null : sortedUnique(words);
}

/** Parses cluster.log exactly as written (keys not checked to be cluster UUIDs). */
export function parseClusterLog(text: string): Map<string, LogEntry<string[], TimeClock>> {
  return parseMapLog(text, parseNodeList);
}

/** Writes cluster.log the way git-annex does (nodes sorted, de-duplicated). */
export function formatClusterLog(log: MapLog<readonly string[]>): string {
  return formatMapLog(log, (nodes) => sortedUnique(nodes).join(" "));
}

/**
 * Every cluster and its nodes (git-annex `getClustersWith`): keys that are
 * not cluster UUIDs are left out; nodes in `dead` are removed (the cluster
 * stays listed even when none of its nodes is left).
 */
export function clustersFromLog(
  text: string,
  dead: ReadonlySet<string> = new Set(),
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [uuid, e] of parseClusterLog(text)) {
    if (!isClusterUuid(uuid)) continue;
    out.set(uuid, new Set(e.value.filter((n) => !dead.has(n))));
  }
  return out;
}

/**
 * The clusters on the branch with dead nodes removed, as git-annex's
 * `loadClusters` (a node marked dead in trust.log is no copy of anything).
 */
export async function readClusters(branch: AnnexBranch): Promise<Map<string, Set<string>>> {
  return clustersFromLog(await branch.read(CLUSTER_LOG), await readDeadUuids(branch));
}

/**
 * Records the nodes of cluster `clusterUuid` in the journal (git-annex
 * `recordCluster`), replacing the nodes recorded before.
 *
 * @throws BranchError AG_BRANCH_CONTENT when `clusterUuid` is not a cluster
 * UUID; BadUuidError for a node UUID that cannot go into a log line.
 */
export async function recordCluster(
  branch: AnnexBranch,
  clusterUuid: string,
  nodeUuids: Iterable<string>,
  candidate: TimeClock = currentClock(),
): Promise<void> {
  if (!isClusterUuid(parseUuid(clusterUuid))) {
    throw new BranchError("AG_BRANCH_CONTENT", `not a cluster UUID: ${clusterUuid}`, {
      uuid: clusterUuid,
    });
  }
  const nodes = sortedUnique([...nodeUuids].map(parseUuid));
  await branch.change(CLUSTER_LOG, (old) =>
    formatClusterLog(changeMapLog(parseClusterLog(old), clusterUuid, nodes, candidate)),
  );
}
