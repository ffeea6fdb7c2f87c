/**
 * uuid.log (Logs/UUID.hs, Logs/UUIDBased.hs "old" format): one line per
 * repository, "<uuid> <description> timestamp=<clock>", newest line per
 * UUID wins. Very old lines have no timestamp.
 */
import { parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import {
  advanceClock,
  compareClocks,
  currentClock,
  formatClock,
  parseClock,
  type TimeClock,
  UNKNOWN_CLOCK,
  type VectorClock,
} from "./clock.js";
import { byteOrder, logLines } from "./presence.js";

/** The branch path of the uuid log. */
export const UUID_LOG = "uuid.log";

export interface UuidLogEntry {
  readonly clock: VectorClock;
  readonly description: string;
}

/** Parsed uuid.log: UUID to its current entry. */
export type UuidLog = ReadonlyMap<string, UuidLogEntry>;

const TIMESTAMP = "timestamp=";

/** Parses uuid.log. When a UUID has several lines the newest wins (the later one on a tie). */
export function parseUuidLog(text: string): Map<string, UuidLogEntry> {
  const log = new Map<string, UuidLogEntry>();
  for (const line of logLines(text)) {
    const sp = line.indexOf(" ");
    const uuid = sp < 0 ? line : line.slice(0, sp);
    if (uuid === "") continue;
    const rest = sp < 0 ? "" : line.slice(sp);
    // The timestamp is only a timestamp as the whole last word.
    let body = rest;
    let clock: VectorClock = UNKNOWN_CLOCK;
    const last = rest.lastIndexOf(" ");
    if (last >= 0 && rest.startsWith(TIMESTAMP, last + 1)) {
      const c = parseClock(rest.slice(last + 1 + TIMESTAMP.length));
      if (c !== null) {
        clock = c;
        body = rest.slice(0, last);
      }
    }
    const entry = { clock, description: body.slice(1) };
    const kept = log.get(uuid);
    if (kept === undefined || compareClocks(kept.clock, clock) <= 0) log.set(uuid, entry);
  }
  return log;
}

/** Writes uuid.log, ordered by UUID. */
export function formatUuidLog(log: UuidLog): string {
  return [...log.keys()]
    .sort(byteOrder)
    .map((uuid) => {
      const e = log.get(uuid);
      if (e === undefined) return "";
      const desc = escapeDescription(e.description);
      return e.clock.kind === "unknown"
        ? `${uuid} ${desc}\n`
        : `${uuid} ${desc} ${TIMESTAMP}${formatClock(e.clock)}\n`;
    })
    .join("");
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
  const old = log.get(uuid);
  const clock = advanceClock(candidate, old === undefined ? [] : [old.clock]);
  return new Map(log).set(uuid, { clock, description });
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
  parseUuid(uuid);
  await branch.change(UUID_LOG, (old) =>
    formatUuidLog(describeUuid(parseUuidLog(old), uuid, description, currentClock())),
  );
}

/** Every described repository: UUID to description, journal included. */
export async function readUuidDescriptions(branch: AnnexBranch): Promise<Map<string, string>> {
  const log = parseUuidLog(await branch.read(UUID_LOG));
  return new Map([...log].map(([uuid, e]) => [uuid, e.description]));
}
