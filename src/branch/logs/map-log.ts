/**
 * git-annex's "new" UUID-based log format (Logs/UUIDBased.hs `parseLogNew`,
 * `buildLogNew`; Logs/MapLog.hs): one line per UUID,
 * "<clock> <uuid> <value>", where the value's own syntax belongs to the
 * log (proxy.log, cluster.log). When a UUID has several lines the one with
 * the newest clock wins, the later line on a tie; lines that do not parse
 * are skipped. Writing gives one line per UUID, ordered by UUID bytes.
 */
import { advanceClock, compareClocks, formatClock, parseClock, type TimeClock } from "./clock.js";
import { byteOrder, logLines } from "./presence.js";

export interface MapLogEntry<V> {
  readonly clock: TimeClock;
  readonly value: V;
}

/** A parsed map log: UUID (the text of the field, possibly "") to its current entry. */
export type MapLog<V> = ReadonlyMap<string, MapLogEntry<V>>;

/**
 * Parses a map log. `parseValue` gets the text after "<clock> <uuid> " and
 * returns null when it does not parse (the line is then skipped).
 */
export function parseMapLog<V>(
  text: string,
  parseValue: (s: string) => V | null,
): Map<string, MapLogEntry<V>> {
  const log = new Map<string, MapLogEntry<V>>();
  for (const line of logLines(text)) {
    const sp1 = line.indexOf(" ");
    if (sp1 < 0) continue;
    const clock = parseClock(line.slice(0, sp1));
    if (clock === null) continue;
    const sp2 = line.indexOf(" ", sp1 + 1);
    if (sp2 < 0) continue;
    const uuid = line.slice(sp1 + 1, sp2);
    const value = parseValue(line.slice(sp2 + 1));
    if (value === null) continue;
    const kept = log.get(uuid);
    // Logs/MapLog.hs `best`: the kept entry stays only when strictly newer.
    if (kept === undefined || !(compareClocks(kept.clock, clock) > 0))
      log.set(uuid, { clock, value });
  }
  return log;
}

/** Writes a map log, one line per UUID in byte order. */
export function formatMapLog<V>(log: MapLog<V>, formatValue: (v: V) => string): string {
  return [...log.keys()]
    .sort(byteOrder)
    .map((uuid) => {
      const e = log.get(uuid) as MapLogEntry<V>;
      return `${formatClock(e.clock)} ${uuid} ${formatValue(e.value)}\n`;
    })
    .join("");
}

/**
 * The log with `uuid` set to `value`, clocked at `candidate`, or one second
 * past the old entry's clock when that is not older (Logs/MapLog.hs
 * `changeMapLog`).
 */
export function changeMapLog<V>(
  log: MapLog<V>,
  uuid: string,
  value: V,
  candidate: TimeClock,
): Map<string, MapLogEntry<V>> {
  const old = log.get(uuid);
  const clock = advanceClock(candidate, old === undefined ? [] : [old.clock]);
  return new Map(log).set(uuid, { clock, value });
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
