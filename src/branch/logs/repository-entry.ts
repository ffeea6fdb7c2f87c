/**
 * The write every per-repository log shares (trust.log, maxsize.log,
 * uuid.log): one repository's value set, stamped with the clock of now (or
 * just after the value it replaces), after its UUID is checked.
 */
import { parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { currentClock } from "./clock.js";
import { changeMapLog, type MapLog } from "./map-log.js";

/** How one per-repository log is read and written. */
export interface RepositoryLogFormat<V> {
  readonly path: string;
  parse(text: string): MapLog<V>;
  format(log: MapLog<V>): string;
}

/**
 * Sets `uuid`'s value in the log `log` describes; a malformed UUID is
 * refused before the log is touched.
 */
export async function setRepositoryValue<V>(
  branch: AnnexBranch,
  log: RepositoryLogFormat<V>,
  uuid: string,
  value: V,
): Promise<void> {
  parseUuid(uuid);
  await branch.change(log.path, (old) =>
    log.format(changeMapLog(log.parse(old), uuid, value, currentClock())),
  );
}
