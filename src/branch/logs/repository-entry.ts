/**
 * The write every per-repository log shares (trust.log, maxsize.log,
 * uuid.log): one repository's entry changed, stamped with the clock of
 * now, after its UUID is checked.
 */
import { parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { currentClock, type TimeClock } from "./clock.js";

/**
 * Rewrites the log at `path` with `change` (old text and now's clock to
 * new text); a malformed UUID is refused before the log is touched.
 */
export async function changeRepositoryEntry(
  branch: AnnexBranch,
  path: string,
  uuid: string,
  change: (old: string, now: TimeClock) => string,
): Promise<void> {
  parseUuid(uuid);
  await branch.change(path, (old) => change(old, currentClock()));
}
