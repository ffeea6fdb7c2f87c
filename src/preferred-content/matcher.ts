/**
 * The generic matcher of git-annex (Utility/Matcher.hs): a token list
 * (operations, "and", "or", "not", parentheses) becomes a tree. There is
 * no precedence: terms combine left to right, adjacent terms are joined by
 * an implicit "and", a missing ")" closes at the end and a stray ")" is
 * ignored. The algorithm is git-annex's own, step for step, so that odd
 * inputs ("a not not b", "or a", "( ) a") give the same tree.
 */

export type Token<Op> =
  | { readonly kind: "op"; readonly op: Op }
  | { readonly kind: "and" | "or" | "not" | "open" | "close" };

export type Matcher<Op> =
  | { readonly kind: "any" }
  | { readonly kind: "and" | "or"; readonly a: Matcher<Op>; readonly b: Matcher<Op> }
  | { readonly kind: "not"; readonly a: Matcher<Op> }
  | { readonly kind: "op"; readonly op: Op };

export const MATCH_ANY: Matcher<never> = { kind: "any" };

/** The syntax words; anything else is an operation (or an error). */
export function syntaxToken<Op>(word: string): Token<Op> | null {
  switch (word) {
    case "and":
      return { kind: "and" };
    case "or":
      return { kind: "or" };
    case "not":
      return { kind: "not" };
    case "(":
      return { kind: "open" };
    case ")":
      return { kind: "close" };
    default:
      return null;
  }
}

type TokenGroup<Op> = { readonly one: Token<Op> } | { readonly group: TokenGroup<Op>[] };

function tokenGroups<Op>(ts: readonly Token<Op>[], start: number): TokenGroup<Op>[] {
  const out: TokenGroup<Op>[] = [];
  let i = start;
  while (i < ts.length) {
    const t = ts[i] as Token<Op>;
    i += 1;
    if (t.kind === "open") {
      const [g, next] = findClose(ts, i);
      out.push(g);
      i = next;
    } else if (t.kind !== "close") {
      out.push({ one: t });
    }
  }
  return out;
}

function findClose<Op>(ts: readonly Token<Op>[], start: number): [TokenGroup<Op>, number] {
  const items: TokenGroup<Op>[] = [];
  let i = start;
  while (i < ts.length) {
    const t = ts[i] as Token<Op>;
    i += 1;
    if (t.kind === "close") return [{ group: items }, i];
    if (t.kind === "open") {
      const [g, next] = findClose(ts, i);
      items.push(g);
      i = next;
    } else {
      items.push({ one: t });
    }
  }
  return [{ group: items }, i];
}

function needsAnd<Op>(g: TokenGroup<Op>): boolean {
  return "group" in g || g.one.kind === "op";
}

function implicitAnd<Op>(gs: readonly TokenGroup<Op>[]): TokenGroup<Op>[] {
  const out: TokenGroup<Op>[] = [];
  for (let i = 0; i < gs.length; i++) {
    const a = gs[i] as TokenGroup<Op>;
    out.push(a);
    const b = gs[i + 1];
    if (b !== undefined && needsAnd(a) && needsAnd(b)) out.push({ one: { kind: "and" } });
  }
  return out;
}

function and<Op>(a: Matcher<Op>, b: Matcher<Op>): Matcher<Op> {
  return { kind: "and", a, b };
}

function process<Op>(m: Matcher<Op>, ts: readonly TokenGroup<Op>[]): Matcher<Op> {
  let acc = m;
  let i = 0;
  while (i < ts.length) [acc, i] = consume(acc, ts, i);
  return acc;
}

function consume<Op>(
  m: Matcher<Op>,
  ts: readonly TokenGroup<Op>[],
  i: number,
): [Matcher<Op>, number] {
  let j = i;
  while (j < ts.length) {
    const g = ts[j] as TokenGroup<Op>;
    // git-annex inserts implicit "and"s at the top level only: inside
    // parentheses a group after a term continues that term's matcher, so
    // "( a ( b or c ) )" is "(a and b) or c".
    if ("group" in g) return [process(m, g.group), j + 1];
    const t = g.one;
    if (t.kind === "and" || t.kind === "or" || t.kind === "not") {
      const [p, next] = consume<Op>(MATCH_ANY, ts, j + 1);
      if (t.kind === "and") return [and(m, p), next];
      if (t.kind === "or") return [{ kind: "or", a: m, b: p }, next];
      return [and(m, { kind: "not", a: p }), next];
    }
    if (t.kind === "op") return [and(m, { kind: "op", op: t.op }), j + 1];
    j += 1;
  }
  return [m, j];
}

function simplify<Op>(m: Matcher<Op>): Matcher<Op> {
  switch (m.kind) {
    case "and":
      if (m.a.kind === "any") return simplify(m.b);
      if (m.b.kind === "any") return simplify(m.a);
      return and(simplify(m.a), simplify(m.b));
    case "or":
      return { kind: "or", a: simplify(m.a), b: simplify(m.b) };
    case "not":
      return { kind: "not", a: simplify(m.a) };
    default:
      return m;
  }
}

/** git-annex's `generate`: tokens to a matcher tree. */
export function generate<Op>(tokens: readonly Token<Op>[]): Matcher<Op> {
  return simplify(process<Op>(MATCH_ANY, implicitAnd(tokenGroups(tokens, 0))));
}

/**
 * Runs a matcher, left to right, stopping as soon as the answer is known
 * (an operation that is not reached is never run, which matters when one
 * would fail for lack of data).
 */
export function runMatcher<Op>(m: Matcher<Op>, run: (op: Op) => boolean): boolean {
  switch (m.kind) {
    case "any":
      return true;
    case "and":
      return runMatcher(m.a, run) && runMatcher(m.b, run);
    case "or":
      return runMatcher(m.a, run) || runMatcher(m.b, run);
    case "not":
      return !runMatcher(m.a, run);
    case "op":
      return run(m.op);
  }
}

/** A matcher with no operations matches anything (and counts as "not configured"). */
export function isEmptyMatcher<Op>(m: Matcher<Op>): boolean {
  return m.kind === "any";
}

/** The operations under an odd number of "not"s. */
export function findNegated<Op>(m: Matcher<Op>, negated = false, out: Op[] = []): Op[] {
  switch (m.kind) {
    case "and":
    case "or":
      findNegated(m.a, negated, out);
      findNegated(m.b, negated, out);
      break;
    case "not":
      findNegated(m.a, !negated, out);
      break;
    case "op":
      if (negated) out.push(m.op);
      break;
  }
  return out;
}

/** Every operation in the matcher. */
export function operations<Op>(m: Matcher<Op>, out: Op[] = []): Op[] {
  if (m.kind === "op") out.push(m.op);
  else if (m.kind !== "any") {
    operations(m.a, out);
    if (m.kind !== "not") operations(m.b, out);
  }
  return out;
}

/** Matches what either does; a matcher with no operations yields to the other (git-annex `combineMatchers`). */
export function combineMatchers<Op>(a: Matcher<Op>, b: Matcher<Op>): Matcher<Op> {
  if (isEmptyMatcher(a)) return b;
  if (isEmptyMatcher(b)) return a;
  return { kind: "or", a, b };
}
