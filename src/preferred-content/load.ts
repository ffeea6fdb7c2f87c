/**
 * Reading a PolicySnapshot from the git-annex branch (journal included),
 * and the facts about one key. The only I/O of this folder.
 */
import {
  type AnnexBranch,
  locationLogPath,
  MINCOPIES_LOG,
  NUMCOPIES_LOG,
  PREFERRED_CONTENT_LOG,
  parsePresenceLog,
  presentInfos,
  REMOTE_LOG,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readCopies,
  readGroupExpressions,
  readGroups,
  readMetaData,
  readTrustLevels,
  remoteConfigsFromLog,
} from "../branch/index.js";
import type { Key } from "./deps.js";
import type { KeyState, PolicySnapshot } from "./snapshot.js";

/** What the branch does not hold, given by the caller. */
export type SnapshotExtras = Omit<
  Partial<PolicySnapshot>,
  "groups" | "trust" | "preferred" | "required" | "groupPreferred" | "numcopies" | "mincopies"
>;

/** The preferreddir= of each special remote in remote.log (for "inpreferreddir"). */
export function preferredDirsOf(remoteLog: string): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const [uuid, config] of remoteConfigsFromLog(remoteLog)) {
    const dir = config.get("preferreddir");
    if (dir !== undefined) dirs.set(uuid, dir);
  }
  return dirs;
}

/**
 * Reads groups, trust, expressions, numcopies/mincopies and preferreddirs
 * from the branch: the branch's part of a snapshot. A repository's view
 * (its git config's trust overrides, unused keys, clusters, sizes) is the
 * policy layer's `buildPolicySnapshot`, which the gateway and the commands
 * share; use that unless only the logs are wanted.
 */
export async function loadPolicySnapshot(
  branch: AnnexBranch,
  extras: SnapshotExtras = {},
): Promise<PolicySnapshot> {
  const [groups, trust, preferred, required, groupPreferred, numcopies, mincopies, preferredDirs] =
    await Promise.all([
      readGroups(branch),
      readTrustLevels(branch),
      readContentExpressions(branch, PREFERRED_CONTENT_LOG),
      readContentExpressions(branch, REQUIRED_CONTENT_LOG),
      readGroupExpressions(branch),
      readCopies(branch, NUMCOPIES_LOG),
      readCopies(branch, MINCOPIES_LOG),
      branch.read(REMOTE_LOG).then(preferredDirsOf),
    ]);
  return {
    preferredDirs,
    ...extras,
    groups,
    trust,
    preferred,
    required,
    groupPreferred,
    numcopies,
    mincopies,
  };
}

/** A key's location log and metadata. */
export async function loadKeyState(
  branch: AnnexBranch,
  key: Key,
  presentHere?: boolean,
): Promise<KeyState> {
  const [log, metadata] = await Promise.all([
    branch.read(locationLogPath(key)),
    readMetaData(branch, key),
  ]);
  return {
    locations: presentInfos(parsePresenceLog(log)),
    metadata,
    ...(presentHere === undefined ? {} : { presentHere }),
  };
}
