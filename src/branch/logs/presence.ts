/**
 * Presence logs (Logs/Presence/Pure.hs): one line per event,
 * "<clock> <status> <info>", status "1" present, "0" missing, "X" dead.
 * The location log is one. A log means its compacted form: per info, the
 * line with the newest clock.
 */
import { advanceClock, compareClocks, formatClock, parseClock, type TimeClock } from "./clock.js";

export type PresenceStatus = "present" | "missing" | "dead";

export interface PresenceLine {
  readonly clock: TimeClock;
  readonly status: PresenceStatus;
  /** The subject, e.g. a repository UUID; any text without line breaks. */
  readonly info: string;
}

const STATUS_CHAR: Record<PresenceStatus, string> = { present: "1", missing: "0", dead: "X" };
const CHAR_STATUS: Record<string, PresenceStatus> = { "1": "present", "0": "missing", X: "dead" };
const LINE = /^(\S+) ([01X]) (.*)$/s;

/** Splits a branch log into lines: any run of \r and \n ends a line (Logs/Line.hs). */
export function logLines(text: string): string[] {
  return text.split(/[\r\n]+/).filter((l) => l !== "");
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Orders strings by their UTF-8 bytes, as git-annex's maps and sets of
 * ByteStrings (UUIDs, group names, log lines) are ordered.
 */
export function byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  // ASCII strings (UUIDs nearly always are) order the same by code unit.
  if (ASCII.test(a) && ASCII.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Parses a presence log; lines that do not parse are skipped, as git-annex does. */
export function parsePresenceLog(text: string): PresenceLine[] {
  const lines: PresenceLine[] = [];
  for (const l of logLines(text)) {
    const m = LINE.exec(l);
    if (m === null) continue;
    const clock = parseClock(m[1] ?? "");
    const status = CHAR_STATUS[m[2] ?? ""];
    if (clock === null || status === undefined) continue;
    lines.push({ clock, status, info: m[3] ?? "" });
  }
  return lines;
}

/** Writes presence log lines, in the given order. */
export function formatPresenceLog(lines: readonly PresenceLine[]): string {
  return lines.map((l) => `${formatClock(l.clock)} ${STATUS_CHAR[l.status]} ${l.info}\n`).join("");
}

function compactMap(lines: readonly PresenceLine[]): Map<string, PresenceLine> {
  // git-annex folds from the last line to the first, letting a line replace
  // the one kept so far when it is at least as new: among equal clocks the
  // earliest line wins.
  const m = new Map<string, PresenceLine>();
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l === undefined) continue;
    const kept = m.get(l.info);
    if (kept === undefined || compareClocks(kept.clock, l.clock) <= 0) m.set(l.info, l);
  }
  return m;
}

function sortedValues(m: Map<string, PresenceLine>): PresenceLine[] {
  return [...m.values()].sort((a, b) => byteOrder(a.info, b.info));
}

/** The current line for each info, ordered by info. */
export function compactPresenceLog(lines: readonly PresenceLine[]): PresenceLine[] {
  return sortedValues(compactMap(lines));
}

/** The infos whose current status is "present". */
export function presentInfos(lines: readonly PresenceLine[]): string[] {
  return compactPresenceLog(lines)
    .filter((l) => l.status === "present")
    .map((l) => l.info);
}

/**
 * Records `status` for `info` (Logs/Presence.hs `maybeAddLog`): returns the
 * new compacted log, or null when `info` already has that status (no
 * change, so no churn). The clock is `candidate`, advanced past any older
 * line for the same info.
 */
export function setPresence(
  lines: readonly PresenceLine[],
  status: PresenceStatus,
  info: string,
  candidate: TimeClock,
): PresenceLine[] | null {
  const clock = advanceClock(
    candidate,
    lines.filter((l) => l.info === info).map((l) => l.clock),
  );
  const m = compactMap(lines);
  if (m.get(info)?.status === status) return null;
  m.set(info, { clock, status, info });
  return sortedValues(m);
}
