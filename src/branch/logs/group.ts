/**
 * group.log (Logs/Group.hs): the groups each repository is in, as an
 * old-form UUID-based log whose value is the group names separated by
 * spaces. A repository whose newest line lists no groups is in none.
 */
import { parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { currentClock } from "./clock.js";
import { changeMapLog, entryValues, type LogEntry, type MapLog } from "./map-log.js";
import { byteOrder } from "./presence.js";
import { formatUuidBasedLog, parseUuidBasedLog } from "./uuid-based.js";

export const GROUP_LOG = "group.log";

/** Parses group.log: UUID to its current entry (a set of group names). */
export function parseGroupLog(text: string): Map<string, LogEntry<ReadonlySet<string>>> {
  return parseUuidBasedLog(text, (v) => new Set(v.split(" ").filter((g) => g !== "")));
}

/** Writes group.log; each set of groups in byte order, as git-annex writes it. */
export function formatGroupLog(log: MapLog<ReadonlySet<string>>): string {
  return formatUuidBasedLog(log, (groups) => [...groups].sort(byteOrder).join(" "));
}

/** Every repository's groups (repositories in no group included, with an empty set). */
export async function readGroups(branch: AnnexBranch): Promise<Map<string, ReadonlySet<string>>> {
  return entryValues(parseGroupLog(await branch.read(GROUP_LOG)));
}

/**
 * Sets the groups of repository `uuid` (git-annex `groupSet`). A group name
 * cannot contain a space or a line break.
 */
export async function recordGroups(
  branch: AnnexBranch,
  uuid: string,
  groups: Iterable<string>,
): Promise<void> {
  parseUuid(uuid);
  const set = new Set(groups);
  for (const g of set) {
    if (g === "" || /[\s]/.test(g)) throw new RangeError(`bad group name ${JSON.stringify(g)}`);
  }
  await branch.change(GROUP_LOG, (old) =>
    formatGroupLog(changeMapLog(parseGroupLog(old), uuid, set, currentClock())),
  );
}
