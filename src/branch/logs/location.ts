/**
 * The location log (Logs/Location.hs): for each key, a presence log of
 * repository UUIDs at `<hashDirLower>/<keyFile>.log` on the branch.
 */
import { hashDirLower, isClusterUuid, type Key, keyFile, parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { currentClock } from "./clock.js";
import { formatPresenceLog, parsePresenceLog, presentInfos, setPresence } from "./presence.js";

/**
 * Where a key's location log lives on the git-annex branch. (Repositories
 * tuned with annex.tune.branchhash1 use one hash level; not supported.)
 *
 * @example
 * locationLogPath(parseKey("SHA256E-s5--abc.txt")) // "f85/0a5/SHA256E-s5--abc.txt.log"
 */
export function locationLogPath(key: Key): string {
  return `${hashDirLower(key)}/${keyFile(key)}.log`;
}

/** The UUIDs a location log says have the content, ordered by UUID. */
export function presentUuids(logText: string): string[] {
  return presentInfos(parsePresenceLog(logText));
}

/**
 * Records in the journal that repository `uuid` has (or no longer has) the
 * content of `key`. Returns false when the log already said so. Cluster
 * UUIDs are never logged (git-annex derives them from their nodes).
 * Throws BadUuidError for text that cannot be a UUID in a log line.
 *
 * @example
 * await setLocation(branch, key, myUuid, true);
 */
export async function setLocation(
  branch: AnnexBranch,
  key: Key,
  uuid: string,
  present: boolean,
): Promise<boolean> {
  parseUuid(uuid);
  if (isClusterUuid(uuid)) return false;
  return branch.change(locationLogPath(key), (old) => {
    const next = setPresence(
      parsePresenceLog(old),
      present ? "present" : "missing",
      uuid,
      currentClock(),
    );
    return next === null ? old : formatPresenceLog(next);
  });
}

/**
 * Several repositories' presence of one key changed at once, in one change
 * of its location log (a cluster upload that reached several nodes).
 * Cluster UUIDs are not written, as with setLocation.
 */
export async function setLocations(
  branch: AnnexBranch,
  key: Key,
  changes: ReadonlyMap<string, boolean>,
): Promise<boolean> {
  const wanted = [...changes].filter(([uuid]) => {
    parseUuid(uuid);
    return !isClusterUuid(uuid);
  });
  if (wanted.length === 0) return false;
  return branch.change(locationLogPath(key), (old) => {
    let log = parsePresenceLog(old);
    let changed = false;
    const clock = currentClock();
    for (const [uuid, present] of wanted) {
      const next = setPresence(log, present ? "present" : "missing", uuid, clock);
      if (next !== null) {
        log = next;
        changed = true;
      }
    }
    return changed ? formatPresenceLog(log) : old;
  });
}

/**
 * The UUIDs of the repositories the location log says have `key`'s
 * content, journal included. Cluster UUIDs are not added for their nodes.
 */
export async function locationsOf(branch: AnnexBranch, key: Key): Promise<string[]> {
  return presentUuids(await branch.read(locationLogPath(key)));
}
