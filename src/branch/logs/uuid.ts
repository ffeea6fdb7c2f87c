/**
 * uuid.log (Logs/UUID.hs, Logs/UUIDBased.hs "old" format): one line per
 * repository, "<uuid> <description> timestamp=<clock>", newest line per
 * UUID wins. Very old lines have no timestamp.
 */
import type { AnnexBranch } from "../branch.js";
import { entryValues, type LogEntry, type MapLog } from "./map-log.js";
import { type RepositoryLogFormat, setRepositoryValue } from "./repository-entry.js";
import { formatUuidBasedLog, parseUuidBasedLog } from "./uuid-based.js";

/** The branch path of the uuid log. */
export const UUID_LOG = "uuid.log";

/** Parsed uuid.log: UUID to its current description. */
export type UuidLog = MapLog<string>;

/** Parses uuid.log. When a UUID has several lines the newest wins (the later one on a tie). */
export function parseUuidLog(text: string): Map<string, LogEntry<string>> {
  return parseUuidBasedLog(text, (v) => v);
}

/** Writes uuid.log, ordered by UUID. */
export function formatUuidLog(log: UuidLog): string {
  return formatUuidBasedLog(log, escapeDescription);
}

/** A newline cannot be stored in a description; git-annex writes it as "\n" (one way). */
function escapeDescription(d: string): string {
  return d.replaceAll("\n", "\\n");
}

const UUID_FORMAT: RepositoryLogFormat<string> = {
  path: UUID_LOG,
  parse: parseUuidLog,
  format: formatUuidLog,
};

/**
 * Records a description for a repository UUID in the journal
 * (git-annex `describeUUID`).
 *
 * @example
 * await setUuidDescription(branch, uuid, "gateway at example.org");
 */
export function setUuidDescription(
  branch: AnnexBranch,
  uuid: string,
  description: string,
): Promise<void> {
  return setRepositoryValue(branch, UUID_FORMAT, uuid, description);
}

/** Every described repository: UUID to description, journal included. */
export async function readUuidDescriptions(branch: AnnexBranch): Promise<Map<string, string>> {
  return entryValues(parseUuidLog(await branch.read(UUID_LOG)));
}
