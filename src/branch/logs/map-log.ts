/**
 * git-annex's map logs (Logs/MapLog.hs): one line per field,
 * "<clock> <field> <value>", where the value's own syntax belongs to the
 * log. "New-style" UUID-based logs (Logs/UUIDBased.hs `parseLogNew`,
 * `buildLogNew`) are map logs keyed by UUID: proxy.log, cluster.log,
 * maxsize.log; group-preferred-content.log is one keyed by group. When a
 * field has several lines the one with the newest clock wins, the later
 * line on a tie; lines that do not parse are skipped. Writing gives one
 * line per field, ordered by field bytes.
 *
 * The old-style UUID-based logs (uuid-based.ts) share this module's
 * entries, `best` rule and `changeMapLog`, as git-annex's share MapLog.
 */
import {
  advanceClock,
  compareClocks,
  formatClock,
  parseClock,
  type TimeClock,
  type VectorClock,
} from "./clock.js";
import { byteOrder, logLines } from "./presence.js";

/** One field's current value and when it was set. */
export interface LogEntry<V, C extends VectorClock = VectorClock> {
  readonly clock: C;
  readonly value: V;
}

/** A parsed log: field (a UUID, possibly "", or a group) to its current entry. */
export type MapLog<V> = ReadonlyMap<string, LogEntry<V>>;

/**
 * Adds `entry` for `field` unless the kept entry is strictly newer
 * (Logs/MapLog.hs `best`: a later line wins a tie).
 */
export function addMapLog<V, C extends VectorClock>(
  log: Map<string, LogEntry<V, C>>,
  field: string,
  entry: LogEntry<V, C>,
): void {
  const kept = log.get(field);
  if (kept === undefined || compareClocks(kept.clock, entry.clock) <= 0) log.set(field, entry);
}

/**
 * Parses a map log. `parseValue` gets the text after "<clock> <field> "
 * and returns null when it does not parse (the line is then skipped).
 *
 * @example
 * parseMapLog("1700000000s acme a:b\n", (v) => v).get("acme")?.value // "a:b"
 */
export function parseMapLog<V>(
  text: string,
  parseValue: (s: string) => V | null,
): Map<string, LogEntry<V, TimeClock>> {
  const log = new Map<string, LogEntry<V, TimeClock>>();
  for (const line of logLines(text)) {
    const sp1 = line.indexOf(" ");
    if (sp1 < 0) continue;
    const clock = parseClock(line.slice(0, sp1));
    if (clock === null) continue;
    const sp2 = line.indexOf(" ", sp1 + 1);
    if (sp2 < 0) continue;
    const value = parseValue(line.slice(sp2 + 1));
    if (value === null) continue;
    addMapLog(log, line.slice(sp1 + 1, sp2), { clock, value });
  }
  return log;
}

/** Writes a map log, one line per field in byte order. */
export function formatMapLog<V>(log: MapLog<V>, formatValue: (v: V) => string): string {
  let out = "";
  for (const field of [...log.keys()].sort(byteOrder)) {
    const e = log.get(field) as LogEntry<V>;
    out += `${formatClock(e.clock)} ${field} ${formatValue(e.value)}\n`;
  }
  return out;
}

/**
 * The log with `field` set to `value`, clocked at `candidate`, or one
 * second past the old entry's clock when that is not older
 * (Logs/MapLog.hs `changeMapLog`, which old-style logs use too).
 */
export function changeMapLog<V>(
  log: MapLog<V>,
  field: string,
  value: V,
  candidate: TimeClock,
): Map<string, LogEntry<V>> {
  const old = log.get(field);
  const clock = advanceClock(candidate, old === undefined ? [] : [old.clock]);
  return new Map(log).set(field, { clock, value });
}

/** Just the values of a log (Logs/MapLog.hs `simpleMap`). */
export function entryValues<V>(log: MapLog<V>): Map<string, V> {
  return new Map([...log].map(([k, e]) => [k, e.value]));
}

/**
 * Splits a value that is a list of space-separated words the way
 * attoparsec's `many (word <* (char ' ' <|> endOfInput)) <* endOfInput`
 * does: each word is what `takeWord` takes at a position (null when it
 * cannot take one), and the whole value must be used up.
 */
export function parseWords<W>(
  s: string,
  takeWord: (s: string, at: number) => { word: W; end: number } | null,
): W[] | null {
  const words: W[] = [];
  let at = 0;
  for (let guard = 0; guard <= s.length; guard++) {
    if (at >= s.length) return words;
    const w = takeWord(s, at);
    if (w === null) return null;
    if (w.end < s.length && s[w.end] !== " ") return null;
    words.push(w.word);
    at = w.end < s.length ? w.end + 1 : w.end;
  }
  return null;
}
