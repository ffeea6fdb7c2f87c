/**
 * The sim's metadata (Annex/Sim.hs `simMetaData`, `CommandMetaData`) and
 * what each simulated repository's clone holds of it.
 *
 * git-annex keeps each key's metadata with its unset values (a value
 * changed is remembered as unset), and writes it whole into a clone's
 * metadata log when it differs from what that clone last got. "Differs"
 * is MetaData's Eq, which ignores whether a value is set: `tag-=keep`
 * after `tag=keep` reached the clones changes nothing they hold, so
 * their `git annex metadata` (and preferred content's `metadata=`) still
 * see tag=keep. That is kept: a clone's copy is brought up to date only
 * where stock brings it (`updateSimRepos`: at a visit, at each per-file
 * action, when a started sim is suspended; see SimState.updateRepos),
 * and a clone made later (a repository added since) gets the metadata as
 * it is then.
 */
import {
  type LoggedMetaData,
  type MetaData,
  type MetaField,
  sameValues,
  unionMetaData,
} from "../branch/index.js";
import { SimError } from "./errors.js";

/** Annex/MetaData.hs `parseModMeta`: a change of one field. */
export type ModMeta = {
  readonly op: "add" | "del" | "maybeset" | "set";
  readonly field: string;
  readonly value: string;
};

const FIELD_PUNCTUATION = new Set(["_", "-", "."]);

/** Types/MetaData.hs legalField: a letter or digit, then letters, digits, "_", "-" or ".". */
function legalField(f: string): boolean {
  const chars = [...f];
  const alnum = (c: string): boolean => /^[\p{L}\p{N}]$/u.test(c);
  return (
    chars.length > 0 &&
    alnum(chars[0] as string) &&
    chars.slice(1).every((c) => alnum(c) || FIELD_PUNCTUATION.has(c))
  );
}

const OPS = { "+": "add", "-": "del", "?": "maybeset" } as const;

/**
 * parseModMeta: `field=value` sets, `field+=value` adds, `field-=value`
 * unsets that value, `field?=value` sets when the field has none; text
 * without "=" sets the empty value. SimError for an illegal field name.
 */
export function parseModMeta(change: string): ModMeta {
  const eq = change.indexOf("=");
  const f = eq < 0 ? change : change.slice(0, eq);
  const value = eq < 0 ? "" : change.slice(eq + 1);
  const op = OPS[f.slice(-1) as keyof typeof OPS];
  const field = op === undefined ? f : f.slice(0, -1);
  if (!legalField(field)) throw new SimError(`Illegal metadata field name, "${field}"`);
  return { op: op ?? "set", field, value };
}

const one = (name: string, values: [string, boolean][]): LoggedMetaData =>
  new Map([[name.toLowerCase(), { name, values: new Map(values) }]]);

/** Types/MetaData.hs `modMeta`: the values a change sets and unsets, given the metadata before it. */
function modMeta(old: LoggedMetaData, m: ModMeta): LoggedMetaData {
  const current = [...(old.get(m.field.toLowerCase())?.values ?? [])]
    .filter(([, set]) => set)
    .map(([v]) => v);
  switch (m.op) {
    case "add":
      return one(m.field, [[m.value, true]]);
    case "del":
      return one(m.field, [[m.value, false]]);
    case "maybeset":
      return current.length === 0 ? one(m.field, [[m.value, true]]) : new Map();
    case "set":
      return one(m.field, [...current.map((v): [string, boolean] => [v, false]), [m.value, true]]);
  }
}

/** Metadata's set values only (what preferred content and `git annex metadata` see). */
export function setValuesOf(m: LoggedMetaData): MetaData {
  const fields = new Map<string, MetaField>();
  for (const [id, f] of m) {
    const values = new Set([...f.values].filter(([, set]) => set).map(([v]) => v));
    if (values.size > 0) fields.set(id, { name: f.name, values });
  }
  return { fields };
}

/** What a clone holds of a key's metadata: as logged, and its set values. */
export interface HeldMetaData {
  readonly logged: LoggedMetaData;
  readonly current: MetaData;
}

export class SimMetaData {
  /** simMetaData: each key's metadata, unset values remembered. */
  readonly #metadata = new Map<number, LoggedMetaData>();
  /** By repository, what its clone holds; undefined until the clone is made. */
  readonly #held: (Map<number, HeldMetaData> | undefined)[] = [];
  /** Keys whose metadata changed since the clones were last brought up to date. */
  readonly #changed = new Set<number>();
  #unmade = 0;

  /** CommandMetaData: the key's metadata with the change applied (Sim.hs `addmeta`). */
  change(key: number, m: ModMeta): void {
    const old = this.#metadata.get(key);
    const next = old === undefined ? modMeta(new Map(), m) : unionMetaData(old, modMeta(old, m));
    this.#metadata.set(key, next);
    this.#changed.add(key);
  }

  /** A key's metadata as the sim has it. */
  of(key: number): LoggedMetaData | undefined {
    return this.#metadata.get(key);
  }

  /** A new repository: its clone is made at the next updateRepos. */
  addRepo(): void {
    this.#held.push(undefined);
    this.#unmade += 1;
  }

  /**
   * Sim.hs `updateSimRepos` for metadata: every made clone takes a key's
   * metadata where it differs (by git-annex's Eq) from what it holds, and
   * clones not made yet are made with all of it.
   */
  updateRepos(): void {
    if (this.#changed.size === 0 && this.#unmade === 0) return;
    const now = new Map<number, HeldMetaData>();
    const heldNow = (key: number, logged: LoggedMetaData): HeldMetaData => {
      let h = now.get(key);
      if (h === undefined) {
        h = { logged, current: setValuesOf(logged) };
        now.set(key, h);
      }
      return h;
    };
    for (let r = 0; r < this.#held.length; r++) {
      let held = this.#held[r];
      const keys = held === undefined ? this.#metadata.keys() : this.#changed;
      if (held === undefined) {
        held = new Map();
        this.#held[r] = held;
      }
      for (const key of keys) {
        const logged = this.#metadata.get(key) as LoggedMetaData;
        const h = held.get(key);
        if (h === undefined || !sameValues(h.logged, logged)) held.set(key, heldNow(key, logged));
      }
    }
    this.#changed.clear();
    this.#unmade = 0;
  }

  /** What repository `repo`'s clone holds, by key (empty before its clone is made). */
  heldBy(repo: number): ReadonlyMap<number, HeldMetaData> {
    return this.#held[repo] ?? new Map();
  }

  /** The set values of `key`'s metadata as `repo`'s clone holds it. */
  currentHeld(repo: number, key: number): MetaData | undefined {
    return this.#held[repo]?.get(key)?.current;
  }
}
