/**
 * Metadata logs (Logs/MetaData.hs, Types/MetaData.hs): for each key,
 * `<hashDirLower>/<keyFile>.log.met`, a single-value log whose values are
 * "field +value -value field2 +value ...". A "+" sets a value, a "-"
 * unsets it; a value with a space, a line break or a leading "!" is
 * written "!" + base64. Newer lines override older ones. Field names
 * compare case-insensitively.
 */
import { hashDirLower, type Key, keyFile } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { compareClocks, formatClock, parseClock, type TimeClock } from "./clock.js";
import { byteOrder, logLines } from "./presence.js";

/** Current metadata of a key: field (folded to lower case) to its set values. */
export interface MetaData {
  readonly fields: ReadonlyMap<string, MetaField>;
}

export interface MetaField {
  /** The field name as written. */
  readonly name: string;
  readonly values: ReadonlySet<string>;
}

export function metadataLogPath(key: Key): string {
  return `${hashDirLower(key)}/${keyFile(key)}.log.met`;
}

/**
 * Metadata as git-annex's MetaData holds it in a log line (Types/MetaData.hs):
 * by field (folded to lower case) its name as written and each value with
 * whether it is currently set (false: a value remembered as unset).
 */
export type LoggedMetaData = ReadonlyMap<string, LoggedField>;

export interface LoggedField {
  readonly name: string;
  readonly values: ReadonlyMap<string, boolean>;
}

/** One log line: for each field, each value with whether it is set. */
export interface MetaLine {
  readonly clock: TimeClock;
  readonly text: string;
  readonly fields: Map<string, { name: string; values: Map<string, boolean> }>;
}

export function foldField(name: string): string {
  return name.toLowerCase();
}

function decodeValue(w: string): { set: boolean; value: string } | null {
  const sign = w[0];
  if (sign !== "+" && sign !== "-") return null;
  const body = w.slice(1);
  if (body.startsWith("!")) {
    const b64 = body.slice(1);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
    return { set: sign === "+", value: Buffer.from(b64, "base64").toString("utf8") };
  }
  return { set: sign === "+", value: body };
}

function parseLine(clock: TimeClock, text: string): MetaLine {
  const fields: MetaLine["fields"] = new Map();
  let current: { name: string; values: Map<string, boolean> } | null = null;
  for (const w of text.split(" ")) {
    const v = current === null ? null : decodeValue(w);
    if (current !== null && v !== null) {
      current.values.set(v.value, v.set);
      continue;
    }
    const key = foldField(w);
    current = fields.get(key) ?? { name: w, values: new Map() };
    fields.set(key, current);
  }
  return { clock, text, fields };
}

/** Parses a metadata log into its lines, oldest first (clock, then text, as git-annex orders them). */
export function parseMetaDataLog(text: string): MetaLine[] {
  const lines: MetaLine[] = [];
  const seen = new Set<string>();
  for (const l of logLines(text)) {
    const sp = l.indexOf(" ");
    if (sp < 0) continue;
    const clock = parseClock(l.slice(0, sp));
    if (clock === null) continue;
    const body = l.slice(sp + 1);
    const id = `${formatClock(clock)} ${body}`;
    if (seen.has(id)) continue;
    seen.add(id);
    lines.push(parseLine(clock, body));
  }
  return lines.sort((a, b) => compareClocks(a.clock, b.clock) || byteOrder(a.text, b.text));
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A clock as git-annex shows a lastchanged value: "%F@%H-%M-%S" in UTC. */
function lastChangedValue(clock: TimeClock): string {
  const secs = Number(clock.units / 10n ** BigInt(clock.scale));
  const d = new Date(secs * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}@${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
}

/**
 * The current metadata a log describes, with the "lastchanged" fields
 * git-annex derives from the clocks ("<field>-lastchanged" for each set
 * field, and "lastchanged" for the newest change).
 */
export function currentMetaData(lines: readonly MetaLine[]): MetaData {
  const state = new Map<string, { name: string; values: Map<string, boolean> }>();
  const changed = new Map<string, TimeClock>();
  for (const l of lines) {
    for (const [key, f] of l.fields) {
      const s = state.get(key) ?? { name: f.name, values: new Map() };
      for (const [v, set] of f.values) s.values.set(v, set);
      state.set(key, s);
      changed.set(key, l.clock);
    }
  }
  const fields = new Map<string, MetaField>();
  for (const [key, s] of state) {
    const values = new Set([...s.values].filter(([, set]) => set).map(([v]) => v));
    if (values.size > 0) fields.set(key, { name: s.name, values });
  }
  const last = lines[lines.length - 1];
  if (last !== undefined) {
    for (const key of [...fields.keys()]) {
      const clock = changed.get(key);
      const name = `${fields.get(key)?.name}-lastchanged`;
      if (clock !== undefined)
        fields.set(foldField(name), { name, values: new Set([lastChangedValue(clock)]) });
    }
    fields.set("lastchanged", {
      name: "lastchanged",
      values: new Set([lastChangedValue(last.clock)]),
    });
  }
  return { fields };
}

/** A key's current metadata, journal included. */
export async function readMetaData(branch: AnnexBranch, key: Key): Promise<MetaData> {
  return currentMetaData(parseMetaDataLog(await branch.read(metadataLogPath(key))));
}
