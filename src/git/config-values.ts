/**
 * A repository's git config as git-annex reads it (`git config -z --list`,
 * Git/Config.hs): key → values in file order. Section and variable names
 * come lower-cased from git; a remote's name (the subsection) keeps its case.
 * The one reader of the whole config: remotes, trust overrides and
 * repository names all go through it.
 */
import type { Git } from "./git.js";

/** Parsed `git config -z --list`: every key's values; a key given without "=" has the value null. */
export class GitConfigValues {
  readonly #values: ReadonlyMap<string, readonly (string | null)[]>;

  constructor(values: ReadonlyMap<string, readonly (string | null)[]>) {
    this.#values = values;
  }

  /** Parses the output of `git config -z --list`. */
  static parse(out: string): GitConfigValues {
    const values = new Map<string, (string | null)[]>();
    for (const item of out.split("\0")) {
      if (item === "") continue;
      const nl = item.indexOf("\n");
      const key = nl < 0 ? item : item.slice(0, nl);
      const value = nl < 0 ? null : item.slice(nl + 1);
      const list = values.get(key);
      if (list === undefined) values.set(key, [value]);
      else list.push(value);
    }
    return new GitConfigValues(values);
  }

  static async read(git: Git): Promise<GitConfigValues> {
    return GitConfigValues.parse((await git.run(["config", "-z", "--list"])).toString("utf8"));
  }

  /** Whether the key is set at all. */
  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** The last value of a key ("" for a key given without a value), or null when unset. */
  get(key: string): string | null {
    const list = this.#values.get(key);
    if (list === undefined || list.length === 0) return null;
    return list[list.length - 1] ?? "";
  }

  /** The last value of a key as git-annex reads a boolean, or null when unset or not a boolean. */
  getBool(key: string): boolean | null {
    const list = this.#values.get(key);
    if (list === undefined || list.length === 0) return null;
    const v = list[list.length - 1];
    if (v === null || v === undefined) return true;
    const s = v.toLowerCase();
    if (s === "yes" || s === "on" || s === "true" || s === "1") return true;
    if (s === "no" || s === "off" || s === "false" || s === "0" || s === "") return false;
    // Git takes any other number as true.
    if (/^[0-9-]+$/.test(s)) return true;
    return null;
  }

  keys(): IterableIterator<string> {
    return this.#values.keys();
  }

  /** Every (key, value) pair, multi-valued keys once per value. */
  *entries(): Generator<[string, string | null]> {
    for (const [k, list] of this.#values) for (const v of list) yield [k, v];
  }
}
