/**
 * uuid.log (Logs/UUID.hs, Logs/UUIDBased.hs "old" format): one line per
 * repository, "<uuid> <description> timestamp=<clock>", newest line per
 * UUID wins. Very old lines have no timestamp.
 */
import type { AnnexBranch } from "../branch.js";
import type { TimeClock, VectorClock } from "./clock.js";
import { changeMapLog, entryValues, type LogEntry } from "./map-log.js";
import { changeRepositoryEntry } from "./repository-entry.js";
import { formatUuidBasedLog, parseUuidBasedLog } from "./uuid-based.js";

/** The branch path of the uuid log. */
export const UUID_LOG = "uuid.log";

export interface UuidLogEntry {
  readonly clock: VectorClock;
  readonly description: string;
}

/** Parsed uuid.log: UUID to its current entry. */
export type UuidLog = ReadonlyMap<string, UuidLogEntry>;

function toUuidLog(log: ReadonlyMap<string, LogEntry<string>>): Map<string, UuidLogEntry> {
  return new Map([...log].map(([u, e]) => [u, { clock: e.clock, description: e.value }]));
}

function fromUuidLog(log: UuidLog): Map<string, LogEntry<string>> {
  return new Map([...log].map(([u, e]) => [u, { clock: e.clock, value: e.description }]));
}

/** Parses uuid.log. When a UUID has several lines the newest wins (the later one on a tie). */
export function parseUuidLog(text: string): Map<string, UuidLogEntry> {
  return toUuidLog(parseUuidBasedLog(text, (v) => v));
}

/** Writes uuid.log, ordered by UUID. */
export function formatUuidLog(log: UuidLog): string {
  return formatUuidBasedLog(fromUuidLog(log), escapeDescription);
}

/** A newline cannot be stored in a description; git-annex writes it as "\n" (one way). */
function escapeDescription(d: string): string {
  return d.replaceAll("\n", "\\n");
}

/** The log with `uuid` described as `description`, clocked at `candidate` or later. */
export function describeUuid(
  log: UuidLog,
  uuid: string,
  description: string,
  candidate: TimeClock,
): Map<string, UuidLogEntry> {
  return toUuidLog(changeMapLog(fromUuidLog(log), uuid, description, candidate));
}

/**
 * Records a description for a repository UUID in the journal
 * (git-annex `describeUUID`).
 *
 * @example
 * await setUuidDescription(branch, uuid, "gateway at example.org");
 */
export async function setUuidDescription(
  branch: AnnexBranch,
  uuid: string,
  description: string,
): Promise<void> {
  await changeRepositoryEntry(branch, UUID_LOG, uuid, (old, now) =>
    formatUuidLog(describeUuid(parseUuidLog(old), uuid, description, now)),
  );
}

/** Every described repository: UUID to description, journal included. */
export async function readUuidDescriptions(branch: AnnexBranch): Promise<Map<string, string>> {
  return entryValues(parseUuidBasedLog(await branch.read(UUID_LOG), (v) => v));
}
