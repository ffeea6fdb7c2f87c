/**
 * The one way a PolicySnapshot is built for a repository, used by the
 * gateway and by the commands alike, so the server and the CLI answer the
 * same expression the same way: the branch's logs (journal included), the
 * clusters of cluster.log, the `remote.NAME.annex-trustlevel` overrides of
 * git config (git-annex's trust map) and the keys `git annex unused` last
 * found, plus sizes when the caller has them.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type AnnexBranch,
  readClusters,
  readTrustLevel,
  type TrustLevel,
} from "../branch/index.js";
import { type Git, GitConfigValues } from "../git/index.js";
import { formatKey, parseKey } from "../keys/index.js";
import { loadPolicySnapshot, type PolicySnapshot } from "../preferred-content/index.js";
import type { SnapshotSizes } from "./snapshot-sizes.js";

/** The repository a snapshot is read from, and whose view it is. */
export interface PolicySource {
  readonly git: Git;
  readonly branch: AnnexBranch;
  /** The repository doing the evaluating ("present" is first-hand for it). */
  readonly uuid: string;
}

/**
 * Reads the snapshot of `source` with `sizes` (none: terms that weigh
 * sizes see none, as when git-annex has not read them).
 *
 * @example
 * const policy = new Policy(await buildPolicySnapshot(here, await snapshotSizes(here.git, here.branch)));
 */
export async function buildPolicySnapshot(
  source: PolicySource,
  sizes?: SnapshotSizes,
): Promise<PolicySnapshot> {
  const { git, branch, uuid } = source;
  const [unusedKeys, clusterNodes, overrides] = await Promise.all([
    readUnusedKeys(join(git.gitDir, "annex", "unused")),
    readClusters(branch),
    configuredTrust(git),
  ]);
  const logged = await loadPolicySnapshot(branch, {
    hereUuid: uuid,
    unusedKeys,
    clusters: clustersOfNodes(clusterNodes),
    ...(sizes === undefined ? {} : { maxSizes: sizes.maxSizes, repoSizes: sizes.repoSizes }),
  });
  const trust = new Map(logged.trust);
  for (const [u, level] of overrides) trust.set(u, level);
  return { ...logged, trust };
}

/** Any term that weighs repository sizes has "balanced" in its name. */
const WEIGHS_SIZES = /balanced/;

/**
 * Whether answering with `snapshot` may weigh repository sizes: some
 * expression it may evaluate (every repository's, every group's, and
 * `extra`) does. Sizes are read only then, as git-annex reads them.
 */
export function weighsSizes(snapshot: PolicySnapshot, extra: readonly string[] = []): boolean {
  const expressions = [
    ...extra,
    ...snapshot.preferred.values(),
    ...snapshot.required.values(),
    ...snapshot.groupPreferred.values(),
  ];
  return expressions.some((e) => WEIGHS_SIZES.test(e));
}

/** cluster.log's cluster → nodes, turned round: node → the clusters it is in. */
function clustersOfNodes(
  clusterNodes: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, Set<string>> {
  const clusters = new Map<string, Set<string>>();
  for (const [cluster, nodes] of clusterNodes) {
    for (const n of nodes) {
      const s = clusters.get(n) ?? new Set<string>();
      s.add(cluster);
      clusters.set(n, s);
    }
  }
  return clusters;
}

/**
 * remote.NAME.annex-trustlevel overrides trust.log for that remote, as in
 * git-annex's trust map.
 */
export async function configuredTrust(git: Git): Promise<Map<string, TrustLevel>> {
  let config: GitConfigValues;
  try {
    config = await GitConfigValues.read(git);
  } catch {
    // No readable config: no overrides.
    return new Map();
  }
  const uuids = new Map<string, string>();
  const levels = new Map<string, TrustLevel>();
  for (const [key, value] of config.entries()) {
    const m = /^remote\.(.*)\.annex-(uuid|trustlevel)$/.exec(key);
    if (m === null || value === null) continue;
    const [, name = "", what] = m;
    if (what === "uuid") uuids.set(name, value);
    else {
      const level = readTrustLevel(value);
      if (level !== null) levels.set(name, level);
    }
  }
  const out = new Map<string, TrustLevel>();
  for (const [name, level] of levels) {
    const u = uuids.get(name);
    if (u !== undefined) out.set(u, level);
  }
  return out;
}

/** .git/annex/unused: "N KEY [TIMESTAMP]" lines written by `git annex unused`. */
async function readUnusedKeys(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    // Never written: `git annex unused` has not run, so no key is known unused.
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw e;
  }
  const keys = new Set<string>();
  for (const line of text.split("\n")) {
    // As git-annex reads it: the number up to the first space, the key up to the last.
    const first = line.indexOf(" ");
    const last = line.lastIndexOf(" ");
    if (first < 0 || last <= first) continue;
    try {
      keys.add(formatKey(parseKey(line.slice(first + 1, last))));
    } catch {
      // not a key: git-annex skips the line too
    }
  }
  return keys;
}
