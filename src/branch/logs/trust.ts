/**
 * trust.log (Logs/Trust/Pure.hs), old UUID-based format:
 * "<uuid> <level> timestamp=<clock>", level "1" trusted, "0" untrusted,
 * "X" dead, anything else semitrusted. Only what the gateway needs is
 * read here: which repositories are dead.
 */
import type { AnnexBranch } from "../branch.js";
import { parseUuidLog } from "./uuid.js";

/** The branch path of the trust log. */
export const TRUST_LOG = "trust.log";

/** UUIDs whose current trust level in `text` (a trust.log) is dead. */
export function deadUuidsFromLog(text: string): Set<string> {
  const dead = new Set<string>();
  for (const [uuid, e] of parseUuidLog(text)) if (e.description === "X") dead.add(uuid);
  return dead;
}

/**
 * Repositories marked dead on the branch. (git config
 * `remote.NAME.annex-trustlevel` overrides are not applied here.)
 */
export async function readDeadUuids(branch: AnnexBranch): Promise<Set<string>> {
  return deadUuidsFromLog(await branch.read(TRUST_LOG));
}
