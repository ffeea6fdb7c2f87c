/**
 * Evaluating a parsed expression (Limit.hs) over a Policy and the facts
 * about one key. Pure: everything it reads is in its arguments.
 *
 * Two ways of giving the facts, as in git-annex: "user" (matchexpression:
 * a term that needs a fact nobody gave fails with NotEnoughDataError, exit
 * 42) and "info" (git-annex's own questions about a key and maybe a file:
 * a missing fact makes the term false).
 */

import { AnnexgateError } from "../errors.js";
import { sizeBalancedCandidates } from "./balanced.js";
import { compareTrust, formatKey, isClusterUuid, type Key, readWholeDouble } from "./deps.js";
import { compileGlob, type Glob } from "./glob.js";
import { findNegated, type Matcher, runMatcher } from "./matcher.js";
import { type KeyState, NO_KEY_STATE, type Policy } from "./snapshot.js";
import { describeTerm, negationUnstable, type Term } from "./terms.js";

export type MissingData = "file" | "key" | "size" | "mimetype" | "mimeencoding";

/** A term needed a fact that was not given (git-annex matchexpression exits 42). */
export class NotEnoughDataError extends AnnexgateError {
  constructor(readonly what: MissingData) {
    super("AG_NOT_ENOUGH_DATA", `cannot match this expression without ${what} data`, { what });
  }
}

export interface MatchInput {
  readonly mode: "user" | "info";
  /** The file, relative to the top of the repository. */
  readonly file?: string;
  readonly key?: Key;
  readonly size?: number;
  readonly mimeType?: string;
  readonly mimeEncoding?: string;
}

export interface EvalOptions {
  /** The repository the expression is about ("present", "balanced=", "inpreferreddir"). */
  readonly repo?: string;
  /** Repositories to count as not having the key (the drop question). */
  readonly notPresent?: ReadonlySet<string>;
  /** Facts about `input.key`. */
  readonly state?: KeyState;
}

const EMPTY: ReadonlySet<string> = new Set();
const SECURE =
  /^(SHA(256|512|224|384)|SHA3_(512|384|256|224)|SKEIN(512|256)|BLAKE2(B160|B224|B256|B384|B512|BP512|S160|S224|S256|SP224|SP256))E?$/;

const globCache = new Map<string, Glob>();

function glob(pattern: string, filePath: boolean, caseInsensitive: boolean): Glob {
  const id = `${filePath ? 1 : 0}${caseInsensitive ? 1 : 0}${pattern}`;
  let g = globCache.get(id);
  if (g === undefined) {
    if (globCache.size > 10_000) globCache.clear();
    g = compileGlob(pattern, { filePath, caseInsensitive });
    globCache.set(id, g);
  }
  return g;
}

/** Haskell's splitPath of takeDirectory: the directory components of a path. */
function directoryParts(file: string): string[] {
  const slash = file.lastIndexOf("/");
  if (slash < 0) return ["."];
  let dir = file.slice(0, slash).replace(/\/+$/, "");
  if (dir === "") dir = "/";
  const parts = dir.match(/[^/]*\/+|[^/]+$/g) ?? [];
  return parts;
}

class Evaluation {
  readonly #locs: { logged?: string[]; key?: string[] } = {};

  constructor(
    readonly policy: Policy,
    readonly input: MatchInput,
    readonly opts: EvalOptions,
  ) {}

  get notPresent(): ReadonlySet<string> {
    return this.opts.notPresent ?? EMPTY;
  }

  get state(): KeyState {
    return this.opts.state ?? NO_KEY_STATE;
  }

  /** The key, or: user mode fails, info mode makes the term false (null). */
  key(): Key | null {
    if (this.input.key !== undefined) return this.input.key;
    if (this.input.mode === "user") throw new NotEnoughDataError("key");
    return null;
  }

  file(): string | null {
    if (this.input.file !== undefined) return this.input.file;
    if (this.input.mode === "user") throw new NotEnoughDataError("file");
    return null;
  }

  keyLocations(): string[] {
    this.#locs.key ??= this.policy.keyLocations(this.state);
    return this.#locs.key;
  }

  loggedLocations(): string[] {
    this.#locs.logged ??= this.policy.loggedLocations(this.state);
    return this.#locs.logged;
  }

  present(): boolean {
    if (this.key() === null) return false;
    const u = this.opts.repo;
    const here = this.policy.snapshot.hereUuid;
    if (u === undefined || u === here) {
      if (this.state.presentHere !== undefined) return this.state.presentHere;
      return u !== undefined && this.keyLocations().includes(u);
    }
    return this.keyLocations().includes(u);
  }

  copies(t: Term & { kind: "copies" }): boolean {
    if (this.key() === null) return false;
    const f = t.filter;
    let n = 0;
    for (const u of this.keyLocations()) {
      if (this.notPresent.has(u) || isClusterUuid(u)) continue;
      if (f.kind === "trust") {
        const c = compareTrust(f.level, this.policy.trustOf(u));
        if (f.orMore ? c > 0 : c !== 0) continue;
      } else if (f.kind === "group" && !this.policy.groupsOf(u).has(f.group)) continue;
      n += 1;
    }
    return n >= t.n;
  }

  size(cmp: (have: number | undefined) => boolean): boolean {
    const { size, key, mode } = this.input;
    if (size !== undefined) return cmp(size);
    if (mode === "user") throw new NotEnoughDataError("size");
    return key === undefined ? false : cmp(key.size);
  }

  fullyBalanced(t: Term & { kind: "fullybalanced" }): boolean {
    const key = this.key();
    if (key === null) return false;
    const p = this.policy;
    const members = p.membersOf(t.group);
    const candidates = this.balanceCandidates(t, key, members);
    if (candidates.length === 0) return false;
    const picker = p.pickerOf(t.group);
    const repo = this.opts.repo;
    if (repo === undefined || picker === undefined) return false;
    return picker(candidates, formatKey(key), t.n).includes(repo);
  }

  balanceCandidates(
    t: Term & { kind: "fullybalanced" },
    key: Key,
    members: readonly string[],
  ): readonly string[] {
    const p = this.policy;
    const maxSizes = p.maxSizes;
    const repoSizes = p.repoSizes;
    const keySize = key.size ?? 0;
    const inRepo = (u: string): boolean => this.loggedLocations().includes(u);
    const bySize = (): string[] =>
      sizeBalancedCandidates({ maxSizes, repoSizes }, t.n, keySize, inRepo, members);
    if (t.bySize) return bySize();
    if (p.snapshot.rebalance === true && t.n > 1) {
      const threshold = p.snapshot.fullyBalancedThreshold ?? 0.9;
      let tooFull = 0;
      for (const u of members) {
        const max = maxSizes.get(u);
        const size = repoSizes.get(u);
        if (max !== undefined && max !== 0 && size !== undefined && size >= max * threshold)
          tooFull += 1;
      }
      if (t.n > members.length - tooFull) return bySize();
    }
    if (maxSizes.size === 0) return members;
    return members.filter((u) => {
      const max = maxSizes.get(u);
      const size = repoSizes.get(u);
      if (max === undefined || size === undefined) return true;
      return inRepo(u) ? size <= max : size + keySize <= max;
    });
  }

  metadata(t: Term & { kind: "metadata" }): boolean {
    if (this.key() === null) return false;
    const values = this.state.metadata?.fields.get(t.field.toLowerCase())?.values;
    if (values === undefined) return false;
    if (t.op === "=") {
      const g = glob(t.value, false, true);
      for (const v of values) if (g(v)) return true;
      return false;
    }
    const want = readWholeDouble(t.value);
    for (const v of values) {
      const have = want === null ? null : readWholeDouble(v);
      const c =
        want !== null && have !== null
          ? have < want
            ? -1
            : have > want
              ? 1
              : 0
          : v < t.value
            ? -1
            : v > t.value
              ? 1
              : 0;
      const ok = t.op === "<" ? c < 0 : t.op === "<=" ? c <= 0 : t.op === ">" ? c > 0 : c >= 0;
      if (ok) return true;
    }
    return false;
  }

  #lackingCopies(n: number): boolean {
    const p = this.policy;
    if (this.key() === null) return false;
    let have = 0;
    for (const u of this.keyLocations()) {
      if (this.notPresent.has(u) || isClusterUuid(u) || p.trustOf(u) === "untrusted") continue;
      have += 1;
    }
    return p.numcopies - have >= n;
  }

  #inAllGroup(group: string): boolean {
    const want = this.policy.membersOf(group);
    if (want.length === 0) return true;
    if (want.some((u) => this.notPresent.has(u))) return false;
    if (this.key() === null) return false;
    const locs = new Set(this.keyLocations());
    return want.every((u) => locs.has(u));
  }

  #onlyInGroup(group: string): boolean {
    const want = new Set(this.policy.membersOf(group));
    if (want.size === 0) return false;
    if (this.key() === null) return false;
    const present = this.keyLocations().filter((u) => !this.notPresent.has(u));
    return present.some((u) => want.has(u)) && present.every((u) => want.has(u));
  }

  run(t: Term): boolean {
    const p = this.policy;
    switch (t.kind) {
      case "anything":
        return true;
      case "nothing":
        return false;
      case "include":
      case "exclude": {
        const f = this.file();
        const m = f === null ? false : glob(t.glob, true, false)(f);
        return t.kind === "include" ? m : !m;
      }
      case "largerthan":
        return this.size((have) => have !== undefined && have > t.size);
      case "smallerthan":
        // A key of unknown size is smaller than anything (Haskell orders Nothing first).
        return this.size((have) => have === undefined || have < t.size);
      case "unused": {
        if (this.input.mode === "info" && this.input.file !== undefined) return false;
        const key = this.key();
        return key !== null && (p.snapshot.unusedKeys?.has(formatKey(key)) ?? false);
      }
      case "present":
        return this.present();
      case "securehash": {
        const key = this.key();
        return key !== null && SECURE.test(key.backend);
      }
      case "inbackend": {
        const key = this.key();
        return key !== null && key.backend === t.backend;
      }
      case "inpreferreddir": {
        const f = this.file();
        if (f === null) return false;
        const dir =
          (this.opts.repo === undefined
            ? undefined
            : p.snapshot.preferredDirs?.get(this.opts.repo)) ?? "public";
        return directoryParts(f).includes(dir);
      }
      case "copies":
        return this.copies(t);
      case "lackingcopies":
        return this.#lackingCopies(t.n);
      case "metadata":
        return this.metadata(t);
      case "inallgroup":
        return this.#inAllGroup(t.group);
      case "onlyingroup":
        return this.#onlyInGroup(t.group);
      case "fullybalanced":
        return this.fullyBalanced(t);
      case "balanced":
        if (p.snapshot.rebalance === true) return this.fullyBalanced(t.fully);
        return this.present() || (!this.copies(t.copies) && this.fullyBalanced(t.fully));
      case "call":
        return runMatcher(t.matcher, (op) => this.run(op));
      case "mimetype":
      case "mimeencoding": {
        const v = t.kind === "mimetype" ? this.input.mimeType : this.input.mimeEncoding;
        if (v === undefined) {
          if (this.input.mode === "user") throw new NotEnoughDataError(t.kind);
          return false;
        }
        return glob(t.glob, false, false)(v);
      }
    }
  }
}

/** Whether an expression is stable, and if not why (Annex/FileMatcher.hs `checkMatcher'`). */
export type Stability =
  | { readonly stable: true }
  | { readonly stable: false; readonly reason: string };

/**
 * An expression that negates a term like "present" or "balanced=" would
 * make content flow back and forth; git-annex never lets it match.
 */
const stabilityCache = new WeakMap<Matcher<Term>, Stability>();

export function stabilityOf(matcher: Matcher<Term>): Stability {
  let s = stabilityCache.get(matcher);
  if (s === undefined) {
    s = computeStability(matcher);
    stabilityCache.set(matcher, s);
  }
  return s;
}

function computeStability(matcher: Matcher<Term>): Stability {
  const unstable = findNegated(matcher).filter(negationUnstable);
  if (unstable.length === 0) return { stable: true };
  const names = [...new Set(unstable.map(describeTerm))];
  return {
    stable: false,
    reason: `that expression is not stable due to negated use of ${names.join(" ")}, so will not be used`,
  };
}

/** Runs the expression, without the stability rule. Throws NotEnoughDataError in user mode. */
export function runExpression(
  policy: Policy,
  matcher: Matcher<Term>,
  input: MatchInput,
  opts: EvalOptions = {},
): boolean {
  const ev = new Evaluation(policy, input, opts);
  return runMatcher(matcher, (t) => ev.run(t));
}

/**
 * Whether the expression matches, as git-annex decides it: run it (a
 * missing fact fails first, in user mode), then an unstable expression
 * never matches.
 */
export function matches(
  policy: Policy,
  matcher: Matcher<Term>,
  input: MatchInput,
  opts: EvalOptions = {},
): boolean {
  const r = runExpression(policy, matcher, input, opts);
  return stabilityOf(matcher).stable ? r : false;
}
