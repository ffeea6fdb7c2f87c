/**
 * Writing metadata logs (Logs/MetaData.hs `addMetaData`, Logs/MetaData/Pure.hs
 * `simplifyLog`, `buildLog`), with the operations on metadata that keeps
 * its unset values that git-annex uses for it (Types/MetaData.hs
 * `unionMetaData`, `differenceMetaData`, `serialize`).
 */
import type { Key } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { advanceClock, compareClocks, currentClock, formatClock, type TimeClock } from "./clock.js";
import {
  type LoggedField,
  type LoggedMetaData,
  type MetaLine,
  metadataLogPath,
  parseMetaDataLog,
} from "./metadata.js";
import { byteOrder } from "./presence.js";

/**
 * unionMetaData OLD NEW: the fields of both; a field both have takes
 * NEW's name, and a value both have NEW's set or unset.
 */
export function unionMetaData(older: LoggedMetaData, newer: LoggedMetaData): LoggedMetaData {
  const out = new Map<string, LoggedField>(older);
  for (const [id, f] of newer) {
    const o = older.get(id);
    if (o === undefined) {
      out.set(id, f);
      continue;
    }
    const values = new Map(o.values);
    for (const [v, set] of f.values) values.set(v, set);
    out.set(id, { name: f.name, values });
  }
  return out;
}

/** differenceMetaData M EXCLUDE: M's values EXCLUDE lacks (set or not), fields left empty dropped. */
export function differenceMetaData(m: LoggedMetaData, exclude: LoggedMetaData): LoggedMetaData {
  const out = new Map<string, LoggedField>();
  for (const [id, f] of m) {
    const e = exclude.get(id);
    if (e === undefined) {
      out.set(id, f);
      continue;
    }
    const values = new Map([...f.values].filter(([v]) => !e.values.has(v)));
    if (values.size > 0) out.set(id, { name: f.name, values });
  }
  return out;
}

/** The logged metadata of a log's lines, oldest first (combineMetaData), unset values kept. */
export function loggedMetaData(lines: readonly MetaLine[]): LoggedMetaData {
  let m: LoggedMetaData = new Map();
  for (const l of lines) m = unionMetaData(m, l.fields);
  return m;
}

/**
 * git-annex's equality of metadata: the same fields (whatever their
 * case) with the same values, whether set or unset (MetaValue's Eq
 * ignores that).
 */
export function sameValues(a: LoggedMetaData, b: LoggedMetaData): boolean {
  if (a.size !== b.size) return false;
  for (const [id, f] of a) {
    const g = b.get(id);
    if (g === undefined || g.values.size !== f.values.size) return false;
    for (const v of f.values.keys()) if (!g.values.has(v)) return false;
  }
  return true;
}

/** The same metadata to the letter: names as written, values, and whether each is set. */
export function sameExactly(a: LoggedMetaData, b: LoggedMetaData): boolean {
  if (!sameValues(a, b)) return false;
  for (const [id, f] of a) {
    const g = b.get(id) as LoggedField;
    if (g.name !== f.name) return false;
    for (const [v, set] of f.values) if (g.values.get(v) !== set) return false;
  }
  return true;
}

/** Annex/MetaData.hs isLastChangedField: "lastchanged", or a name ending in "-lastchanged". */
function isLastChanged(id: string, f: LoggedField): boolean {
  return id === "lastchanged" || (f.name.endsWith("-lastchanged") && f.name !== "-lastchanged");
}

/** What addMetaData logs of `m`: not the lastchanged fields, which git-annex derives. */
export function withoutLastChanged(m: LoggedMetaData): LoggedMetaData {
  return new Map([...m].filter(([id, f]) => !isLastChanged(id, f)));
}

/** A value as serialized: base64 after "!" when it has a space or line break, or starts with "!". */
function serializeValue(v: string, set: boolean): string {
  const text = /[ \r\n]/.test(v) || v.startsWith("!") ? `!${Buffer.from(v).toString("base64")}` : v;
  return `${set ? "+" : "-"}${text}`;
}

/** "field1 +val1 -val2 field2 +val3": fields and values in git-annex's order. */
export function serializeMetaData(m: LoggedMetaData): string {
  const words: string[] = [];
  for (const id of [...m.keys()].sort(byteOrder)) {
    const f = m.get(id) as LoggedField;
    words.push(f.name);
    for (const v of [...f.values.keys()].sort(byteOrder)) {
      words.push(serializeValue(v, f.values.get(v) as boolean));
    }
  }
  return words.join(" ");
}

interface Entry {
  readonly clock: TimeClock;
  readonly meta: LoggedMetaData;
}

const entryOrder = (a: Entry, b: Entry): number =>
  compareClocks(a.clock, b.clock) ||
  byteOrder(serializeMetaData(a.meta), serializeMetaData(b.meta));

/**
 * simplifyLog: from the newest line back, each older line keeps only
 * what no newer line has; a line left with nothing goes. The simplified
 * log is used only when it has fewer lines.
 */
export function simplifyMetaDataLog(entries: readonly Entry[]): readonly Entry[] {
  const desc = [...entries].sort((a, b) => entryOrder(b, a));
  const [newest, ...rest] = desc;
  if (newest === undefined) return entries;
  const kept: Entry[] = [newest];
  let newer = newest.meta;
  for (const l of rest) {
    const unique = differenceMetaData(l.meta, newer);
    if (unique.size === 0) continue;
    kept.unshift({ clock: l.clock, meta: unique });
    newer = unionMetaData(unique, newer);
  }
  return kept.length < desc.length ? kept : entries;
}

/** buildLog: a line per entry, "<clock> <metadata>", oldest first. */
export function formatMetaDataLog(entries: readonly Entry[]): string {
  return [...entries]
    .sort(entryOrder)
    .map((e) => `${formatClock(e.clock)} ${serializeMetaData(e.meta)}\n`)
    .join("");
}

/**
 * addMetaData: logs `meta` (values to set and to unset, the lastchanged
 * fields left out) for `key` with the clock of now, or just after the
 * newest line, then simplifies the log. Nothing is written for empty
 * metadata. Returns whether the log changed.
 */
export async function addMetaData(
  branch: AnnexBranch,
  key: Key,
  meta: LoggedMetaData,
  clock: TimeClock = currentClock(),
): Promise<boolean> {
  const logged = withoutLastChanged(meta);
  if (logged.size === 0) return false;
  return branch.change(metadataLogPath(key), (old) => {
    const lines = parseMetaDataLog(old);
    const c = advanceClock(
      clock,
      lines.map((l) => l.clock),
    );
    const entries = [
      ...lines.map((l) => ({ clock: l.clock, meta: l.fields })),
      { clock: c, meta: logged },
    ];
    return formatMetaDataLog(simplifyMetaDataLog(entries));
  });
}
