/**
 * "Would repository R want key K?" as git-annex asks it
 * (Logs/PreferredContent.hs, Annex/Wanted.hs): R's preferred content
 * expression, with "standard" and "groupwanted" expanded for R, combined
 * with R's required content; an expression that does not parse (from a
 * newer git-annex, say) falls back to "present", and a repository with no
 * expression wants whatever the caller's default says (true here).
 */
import { isClusterUuid, type Key } from "./deps.js";
import { matches, type Stability, stabilityOf } from "./evaluate.js";
import { combineMatchers, isEmptyMatcher, type Matcher } from "./matcher.js";
import type { KeyState, Policy } from "./snapshot.js";
import { standardExpression, standardGroupOf } from "./standard-groups.js";
import { type ParseContext, type Parsed, parsePreferredContent, type Term } from "./terms.js";

const PRESENT: Matcher<Term> = { kind: "op", op: { kind: "present" } };

function unknownMatcher(): Parsed {
  return { ok: true, matcher: PRESENT };
}

function contextFor(
  policy: Policy,
  uuid: string,
  expandStandard: boolean,
  expandGroupwanted: boolean,
): ParseContext {
  const groups = policy.groupsOf(uuid);
  return {
    standard: () => {
      if (!expandStandard) return unknownMatcher();
      const sg = standardGroupOf(groups);
      return sg === null
        ? unknownMatcher()
        : parsePreferredContent(standardExpression(sg), contextFor(policy, uuid, false, false));
    },
    groupwanted: () => {
      if (!expandGroupwanted) return unknownMatcher();
      const exprs = [...policy.snapshot.groupPreferred]
        .filter(([g]) => groups.has(g))
        .map(([, e]) => e);
      const only = exprs.length === 1 ? exprs[0] : undefined;
      return only === undefined
        ? unknownMatcher()
        : parsePreferredContent(only, contextFor(policy, uuid, true, false));
    },
  };
}

/** Parses a repository's stored expression the way git-annex does for that repository. */
export function parseForRepository(policy: Policy, uuid: string, expr: string): Parsed {
  return parsePreferredContent(expr, contextFor(policy, uuid, true, true));
}

type Which = "preferred" | "required";

/**
 * The matcher git-annex uses for a repository's preferred (or required)
 * content, or null when none is configured. Preferred content includes
 * required content. Cached on the policy.
 */
export function repositoryMatcher(
  policy: Policy,
  uuid: string,
  which: Which,
): Matcher<Term> | null {
  const id = `${which}\0${uuid}`;
  if (policy.cache.has(id)) return policy.cache.get(id) as Matcher<Term> | null;
  const parse = (expr: string | undefined): Parsed | undefined =>
    expr === undefined ? undefined : parseForRepository(policy, uuid, expr);
  const rc = parse(policy.snapshot.required.get(uuid));
  const pc = which === "preferred" ? parse(policy.snapshot.preferred.get(uuid)) : undefined;
  let m: Matcher<Term> | null;
  if (pc === undefined && rc === undefined) m = null;
  else if (pc !== undefined && rc !== undefined) {
    m = pc.ok && rc.ok ? combineMatchers(pc.matcher, rc.matcher) : PRESENT;
  } else {
    const only = (pc ?? rc) as Parsed;
    m = only.ok ? only.matcher : PRESENT;
  }
  policy.cache.set(id, m);
  return m;
}

export interface WantOptions {
  /** The file the key is for, relative to the top of the repository. */
  readonly file?: string;
  /** Ask whether the repository would keep its copy (evaluated as if it had none). */
  readonly dropping?: boolean;
  /** Facts about the key: its location log, metadata. */
  readonly state?: KeyState;
  /** Answer when the repository has no expression (git-annex's callers pass their default). */
  readonly default?: boolean;
}

function check(policy: Policy, which: Which, uuid: string, key: Key, opts: WantOptions): boolean {
  const d = opts.default ?? true;
  const m = repositoryMatcher(policy, uuid, which);
  if (m === null || isEmptyMatcher(m)) return d;
  return matches(
    policy,
    m,
    { mode: "info", key, ...(opts.file === undefined ? {} : { file: opts.file }) },
    {
      repo: uuid,
      notPresent: opts.dropping === true ? new Set([uuid]) : new Set(),
      ...(opts.state === undefined ? {} : { state: opts.state }),
    },
  );
}

/**
 * git-annex's isPreferredContent for repository `uuid`: whether it wants
 * `key` (to get or store it; with `dropping`, whether it wants to keep it).
 */
export function wantsKey(policy: Policy, uuid: string, key: Key, opts: WantOptions = {}): boolean {
  return check(policy, "preferred", uuid, key, opts);
}

/** git-annex's isRequiredContent for repository `uuid` (default false when none is set). */
export function requiresKey(
  policy: Policy,
  uuid: string,
  key: Key,
  opts: WantOptions = {},
): boolean {
  return check(policy, "required", uuid, key, { default: false, ...opts });
}

/**
 * Whether `uuid` may drop `key` by the logs: it does not want it (as if
 * dropped), does not require it, and the other copies the location log
 * lists (not untrusted, not dead, clusters not counted) meet numcopies and
 * mincopies. git-annex also verifies those copies before dropping.
 */
export function mayDropByLog(
  policy: Policy,
  uuid: string,
  key: Key,
  state: KeyState,
  file?: string,
): boolean {
  const opts: WantOptions = { dropping: true, state, ...(file === undefined ? {} : { file }) };
  if (wantsKey(policy, uuid, key, opts) || requiresKey(policy, uuid, key, opts)) return false;
  const others = policy
    .keyLocations(state)
    .filter((u) => u !== uuid && !isClusterUuid(u) && policy.trustOf(u) !== "untrusted");
  return others.length >= Math.max(policy.numcopies, policy.mincopies);
}

/** Why a repository's expression is unstable, or that it is stable. */
export function repositoryStability(policy: Policy, uuid: string): Stability {
  const m = repositoryMatcher(policy, uuid, "preferred");
  return m === null ? { stable: true } : stabilityOf(m);
}
