/**
 * difference.log (Logs/Difference.hs): the ways a repository's git-annex
 * branch differs from the usual layout, as an old-form UUID-based log
 * whose value is Haskell's show of a set ("fromList [Simulation]").
 * git-annex refuses to merge branches whose differences do not agree.
 */
import type { AnnexBranch } from "../branch.js";
import { entryValues } from "./map-log.js";
import { type RepositoryLogFormat, setRepositoryValue } from "./repository-entry.js";
import { formatUuidBasedLog, parseUuidBasedLog } from "./uuid-based.js";

/** The branch path of the difference log. */
export const DIFFERENCE_LOG = "difference.log";

const DIFFERENCE_FORMAT: RepositoryLogFormat<string> = {
  path: DIFFERENCE_LOG,
  parse: (text) => parseUuidBasedLog(text, (v) => v),
  format: (log) => formatUuidBasedLog(log, (v) => v),
};

/** Every repository's recorded differences, as written ("fromList [Simulation]"). */
export async function readDifferences(branch: AnnexBranch): Promise<Map<string, string>> {
  return entryValues(DIFFERENCE_FORMAT.parse(await branch.read(DIFFERENCE_LOG)));
}

/**
 * Records repository `uuid`'s differences (git-annex `recordDifferences`),
 * by their names in Types/Difference.hs ("Simulation", "OneLevelObjectHash"),
 * given in the order that file declares them (the order of its set).
 */
export function recordDifferences(
  branch: AnnexBranch,
  uuid: string,
  differences: readonly string[],
): Promise<void> {
  const shown = `fromList [${[...new Set(differences)].join(",")}]`;
  return setRepositoryValue(branch, DIFFERENCE_FORMAT, uuid, shown);
}
