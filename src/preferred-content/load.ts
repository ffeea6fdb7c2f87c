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
  parseUuidBasedLog,
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

const REMOTE_LOG = "remote.log";

/** Undoes remote.log's escaping of values ("&32;" for a space; Logs/Remote/Pure.hs). */
function configUnescape(v: string): string {
  return v.replace(/&([0-9]+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}

/** The preferreddir= of each special remote in remote.log (for "inpreferreddir"). */
export function preferredDirsOf(remoteLog: string): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const [uuid, e] of parseUuidBasedLog(remoteLog, (v) => v)) {
    for (const w of e.value.split(/\s+/)) {
      if (w.startsWith("preferreddir="))
        dirs.set(uuid, configUnescape(w.slice("preferreddir=".length)));
    }
  }
  return dirs;
}

/** Reads groups, trust, expressions, numcopies/mincopies and preferreddirs from the branch. */
export async function loadPolicySnapshot(
  branch: AnnexBranch,
  extras: SnapshotExtras = {},
): Promise<PolicySnapshot> {
  const [groups, trust, preferred, required, groupPreferred, numcopies, mincopies, preferredDirs] =
    await Promise.all([
      branch.read(GROUP_LOG).then((t) => entryValues(parseGroupLog(t))),
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
