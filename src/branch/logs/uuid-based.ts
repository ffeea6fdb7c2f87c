/**
 * UUID-based logs in git-annex's "old" form (Logs/UUIDBased.hs): one line
 * per repository, "<uuid> <value> timestamp=<clock>", the newest line per
 * UUID winning (the later line on a tie). group.log, trust.log,
 * preferred-content.log and required-content.log are written this way.
 * Also the map log ("<clock> <field> <value>", Logs/MapLog.hs) that
 * group-preferred-content.log uses.
 */
import {
  advanceClock,
  compareClocks,
  formatClock,
  parseClock,
  type TimeClock,
  UNKNOWN_CLOCK,
  type VectorClock,
} from "./clock.js";
import { byteOrder, logLines } from "./presence.js";

export interface LogEntry<V> {
  readonly clock: VectorClock;
  readonly value: V;
}

/** A parsed log: subject (a UUID, or a group for map logs) to its current entry. */
export type EntryLog<V> = ReadonlyMap<string, LogEntry<V>>;

const TIMESTAMP = " timestamp=";

function keep<V>(log: Map<string, LogEntry<V>>, subject: string, entry: LogEntry<V>): void {
  const kept = log.get(subject);
  if (kept === undefined || compareClocks(kept.clock, entry.clock) <= 0) log.set(subject, entry);
}

/**
 * Parses an old-form UUID-based log. `parseValue` returns null for a value
 * it does not accept; that line is then skipped, as git-annex skips lines
 * it cannot parse.
 */
export function parseUuidBasedLog<V>(
  text: string,
  parseValue: (value: string) => V | null,
): Map<string, LogEntry<V>> {
  const log = new Map<string, LogEntry<V>>();
  for (const line of logLines(text)) {
    const sp = line.indexOf(" ");
    const uuid = sp < 0 ? line : line.slice(0, sp);
    if (uuid === "") continue;
    let rest = sp < 0 ? "" : line.slice(sp);
    let clock: VectorClock = UNKNOWN_CLOCK;
    // The timestamp counts only as the whole last word, and only when it parses.
    const at = rest.lastIndexOf(TIMESTAMP);
    if (at >= 0 && !rest.slice(at + TIMESTAMP.length).includes(" ")) {
      const c = parseClock(rest.slice(at + TIMESTAMP.length));
      if (c !== null) {
        clock = c;
        rest = rest.slice(0, at);
      }
    }
    const value = parseValue(rest.slice(1));
    if (value === null) continue;
    keep(log, uuid, { clock, value });
  }
  return log;
}

/** Writes an old-form UUID-based log, ordered by UUID bytes. */
export function formatUuidBasedLog<V>(log: EntryLog<V>, formatValue: (v: V) => string): string {
  let out = "";
  for (const uuid of [...log.keys()].sort(byteOrder)) {
    const e = log.get(uuid);
    if (e === undefined) continue;
    const v = formatValue(e.value);
    out +=
      e.clock.kind === "unknown"
        ? `${uuid} ${v}\n`
        : `${uuid} ${v}${TIMESTAMP}${formatClock(e.clock)}\n`;
  }
  return out;
}

/** The log with `subject` set to `value`, clocked at `candidate` or just after its old entry. */
export function changeEntryLog<V>(
  log: EntryLog<V>,
  subject: string,
  value: V,
  candidate: TimeClock,
): Map<string, LogEntry<V>> {
  const old = log.get(subject);
  const clock = advanceClock(candidate, old === undefined ? [] : [old.clock]);
  return new Map(log).set(subject, { clock, value });
}

/** Just the values of a log. */
export function entryValues<V>(log: EntryLog<V>): Map<string, V> {
  return new Map([...log].map(([k, e]) => [k, e.value]));
}

const MAP_LINE = /^(\S+) ([^ ]*) (.*)$/s;

/** Parses a map log ("<clock> <field> <value>" lines; Logs/MapLog.hs). */
export function parseMapLog<V>(
  text: string,
  parseValue: (value: string) => V | null,
): Map<string, LogEntry<V>> {
  const log = new Map<string, LogEntry<V>>();
  for (const line of logLines(text)) {
    const m = MAP_LINE.exec(line);
    if (m === null) continue;
    const clock = parseClock(m[1] ?? "");
    const value = parseValue(m[3] ?? "");
    if (clock === null || value === null) continue;
    keep(log, m[2] ?? "", { clock, value });
  }
  return log;
}

/** Writes a map log, ordered by field bytes. */
export function formatMapLog<V>(log: EntryLog<V>, formatValue: (v: V) => string): string {
  let out = "";
  for (const field of [...log.keys()].sort(byteOrder)) {
    const e = log.get(field);
    if (e === undefined) continue;
    out += `${formatClock(e.clock)} ${field} ${formatValue(e.value)}\n`;
  }
  return out;
}
