/**
 * Reading a PolicySnapshot from the git-annex branch (journal included),
 * and the facts about one key. The only I/O of this folder.
 */
import {
  type AnnexBranch,
  entryValues,
  GROUP_LOG,
  locationLogPath,
  MINCOPIES_LOG,
  NUMCOPIES_LOG,
  PREFERRED_CONTENT_LOG,
  parseGroupLog,
  parsePresenceLog,
  presentInfos,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readCopies,
  readGroupExpressions,
  readMetaData,
  readTrustLevels,
} from "../branch/index.js";
import type { Key } from "./deps.js";
import type { KeyState, PolicySnapshot } from "./snapshot.js";

/** What the branch does not hold, given by the caller. */
export type SnapshotExtras = Omit<
  Partial<PolicySnapshot>,
  "groups" | "trust" | "preferred" | "required" | "groupPreferred" | "numcopies" | "mincopies"
>;

/** Reads groups, trust, expressions and numcopies/mincopies from the branch. */
export async function loadPolicySnapshot(
  branch: AnnexBranch,
  extras: SnapshotExtras = {},
): Promise<PolicySnapshot> {
  const [groups, trust, preferred, required, groupPreferred, numcopies, mincopies] =
    await Promise.all([
      branch.read(GROUP_LOG).then((t) => entryValues(parseGroupLog(t))),
      readTrustLevels(branch),
      readContentExpressions(branch, PREFERRED_CONTENT_LOG),
      readContentExpressions(branch, REQUIRED_CONTENT_LOG),
      readGroupExpressions(branch),
      readCopies(branch, NUMCOPIES_LOG),
      readCopies(branch, MINCOPIES_LOG),
    ]);
  return { ...extras, groups, trust, preferred, required, groupPreferred, numcopies, mincopies };
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
