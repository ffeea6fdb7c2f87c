/**
 * UUID-based logs in git-annex's "old" form (Logs/UUIDBased.hs
 * `parseLogOld`, `buildLogOld`): one line per repository,
 * "<uuid> <value> timestamp=<clock>", the newest line per UUID winning
 * (the later line on a tie). Very old lines have no timestamp. uuid.log,
 * remote.log, group.log, trust.log, preferred-content.log and
 * required-content.log are written this way. The entries are map-log
 * entries: the "new" form is a map log (map-log.ts).
 */
import { formatClock, parseClock, UNKNOWN_CLOCK, type VectorClock } from "./clock.js";
import { addMapLog, type LogEntry, type MapLog } from "./map-log.js";
import { byteOrder, logLines } from "./presence.js";

export { entryValues } from "./map-log.js";

const TIMESTAMP = " timestamp=";

/**
 * Parses an old-form UUID-based log. `parseValue` returns null for a value
 * it does not accept; that line is then skipped, as git-annex skips lines
 * it cannot parse.
 *
 * @example
 * parseUuidBasedLog("u1 a b timestamp=5s\n", (v) => v).get("u1")?.value // "a b"
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
    addMapLog(log, uuid, { clock, value });
  }
  return log;
}

/** Writes an old-form UUID-based log, ordered by UUID bytes; no timestamp for an unknown clock. */
export function formatUuidBasedLog<V>(log: MapLog<V>, formatValue: (v: V) => string): string {
  let out = "";
  for (const uuid of [...log.keys()].sort(byteOrder)) {
    const e = log.get(uuid) as LogEntry<V>;
    const v = formatValue(e.value);
    out +=
      e.clock.kind === "unknown"
        ? `${uuid} ${v}\n`
        : `${uuid} ${v}${TIMESTAMP}${formatClock(e.clock)}\n`;
  }
  return out;
}
