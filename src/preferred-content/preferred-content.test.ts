import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { genClusterUuid, parseKey } from "../keys/index.js";
import { balancedPicker, sizeBalancedCandidates } from "./balanced.js";
import { matches, NotEnoughDataError, runExpression, stabilityOf } from "./evaluate.js";
import { compileGlob } from "./glob.js";
import { showString } from "./haskell-show.js";
import { preferredDirsOf } from "./load.js";
import { generate, type Matcher, runMatcher, type Token } from "./matcher.js";
import { Policy, type PolicySnapshot } from "./snapshot.js";
import { STANDARD_GROUPS, standardExpression } from "./standard-groups.js";
import {
  checkPreferredContentExpression,
  parsePreferredContent,
  type Term,
  tokenize,
} from "./terms.js";
import { mayDropByLog, repositoryStability, requiresKey, wantsKey } from "./wants.js";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const C = "cccccccc-0000-4000-8000-000000000003";
const D = "dddddddd-0000-4000-8000-000000000004";

function snapshot(p: Partial<PolicySnapshot> = {}): PolicySnapshot {
  return {
    groups: new Map(),
    trust: new Map(),
    preferred: new Map(),
    required: new Map(),
    groupPreferred: new Map(),
    ...p,
  };
}

function parsed(expr: string): Matcher<Term> {
  const p = parsePreferredContent(expr);
  assert.ok(p.ok, `${expr}: ${p.ok ? "" : p.errors.join(" ")}`);
  return p.matcher;
}

describe("balanced placement", () => {
  it("matches git-annex's known vector (UUIDs 1..500, WORM--test)", () => {
    const us = Array.from({ length: 500 }, (_, i) => String(i + 1)).sort();
    const pick = balancedPicker(us);
    assert.deepEqual(pick(us, "WORM--test", 1), ["332"]);
    assert.deepEqual(pick(us, "WORM--test", 3), ["332", "333", "334"]);
  });

  it("never picks outside the candidates, and is stable", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 12 }),
        fc.string(),
        fc.integer({ min: 1, max: 5 }),
        (us, k, n) => {
          const sorted = [...us].sort();
          const pick = balancedPicker(us);
          const a = pick(sorted, `WORM--${k}`, n);
          assert.equal(a.length, n);
          for (const u of a) assert.ok(sorted.includes(u));
          assert.deepEqual(pick(sorted, `WORM--${k}`, n), a);
        },
      ),
    );
  });

  it("size balancing prefers the emptiest in proportion, ties to the larger UUID", () => {
    const maxSizes = new Map([
      [A, 100],
      [B, 1000],
      [C, 100],
      [D, 0],
    ]);
    const repoSizes = new Map([
      [A, 50],
      [B, 100],
      [C, 50],
    ]);
    const none = (): boolean => false;
    assert.deepEqual(sizeBalancedCandidates({ maxSizes, repoSizes }, 1, 10, none, [A, B, C, D]), [
      B,
    ]);
    assert.deepEqual(sizeBalancedCandidates({ maxSizes, repoSizes }, 2, 10, none, [A, B, C, D]), [
      B,
      C,
    ]);
    // No room for a key of 60 bytes in A or C.
    assert.deepEqual(sizeBalancedCandidates({ maxSizes, repoSizes }, 3, 60, none, [A, B, C]), [B]);
  });

  it("balanced= wants a key only in the picked member, fullybalanced likewise", () => {
    const groups = new Map([
      [A, new Set(["g"])],
      [B, new Set(["g"])],
      [C, new Set(["g"])],
    ]);
    const policy = new Policy(snapshot({ groups }));
    const key = parseKey("WORM--placement-test");
    const want = (u: string, e: string): boolean =>
      matches(policy, parsed(e), { mode: "info", key }, { repo: u, state: { locations: [] } });
    const picked = [A, B, C].filter((u) => want(u, "balanced=g"));
    assert.equal(picked.length, 1);
    assert.deepEqual(
      [A, B, C].filter((u) => want(u, "fullybalanced=g")),
      picked,
    );
    assert.equal([A, B, C].filter((u) => want(u, "balanced=g:2")).length, 2);
    // Once the group has its copy, nobody else wants it (unless rebalancing).
    const held = { locations: [picked[0] as string] };
    const others = [A, B, C].filter((u) => u !== picked[0]);
    for (const u of others)
      assert.equal(
        matches(policy, parsed("balanced=g"), { mode: "info", key }, { repo: u, state: held }),
        false,
      );
    // The holder keeps wanting it ("present").
    assert.equal(
      matches(
        policy,
        parsed("balanced=g"),
        { mode: "info", key },
        { repo: picked[0] as string, state: held },
      ),
      true,
    );
  });
});

describe("balanced placement with sizes and --rebalance", () => {
  const groups = new Map([
    [A, new Set(["g"])],
    [B, new Set(["g"])],
    [C, new Set(["g"])],
  ]);
  const key = parseKey(
    "SHA256E-s100--2222222222222222222222222222222222222222222222222222222222222222",
  );
  const wanting = (
    p: Partial<PolicySnapshot>,
    expr: string,
    locations: string[] = [],
  ): string[] => {
    const policy = new Policy(snapshot({ groups, ...p }));
    return [A, B, C].filter((u) =>
      matches(policy, parsed(expr), { mode: "info", key }, { repo: u, state: { locations } }),
    );
  };

  it("a full member is no candidate; the pick moves to one with room", () => {
    const [first] = wanting({}, "fullybalanced=g");
    assert.ok(first !== undefined);
    const full = { maxSizes: new Map([[first, 1000]]), repoSizes: new Map([[first, 950]]) };
    const moved = wanting(full, "fullybalanced=g");
    assert.equal(moved.length, 1);
    assert.notEqual(moved[0], first);
    // It still has room for a key it already holds.
    assert.deepEqual(
      wanting({ ...full, repoSizes: new Map([[first, 1000]]) }, "fullybalanced=g", [first]),
      [first],
    );
  });

  it("rebalancing drops the 'present' escape: only the picked member wants it", () => {
    const [picked] = wanting({}, "balanced=g");
    const other = [A, B, C].find((u) => u !== picked) as string;
    assert.deepEqual(wanting({}, "balanced=g", [other]).sort(), [other]);
    assert.deepEqual(wanting({ rebalance: true }, "balanced=g", [other]), [picked]);
  });

  it("sizebalanced picks the member with the most free space in proportion", () => {
    const maxSizes = new Map([
      [A, 1000],
      [B, 1000],
      [C, 1000],
    ]);
    const repoSizes = new Map([
      [A, 500],
      [B, 100],
      [C, 900],
    ]);
    assert.deepEqual(wanting({ maxSizes, repoSizes }, "fullysizebalanced=g"), [B]);
    assert.deepEqual(wanting({ maxSizes, repoSizes }, "fullysizebalanced=g:2").sort(), [A, B]);
    // Without maximum sizes there is nothing to balance by.
    assert.deepEqual(wanting({}, "fullysizebalanced=g"), []);
  });
});

describe("the matcher", () => {
  const op = (b: boolean): Token<boolean> => ({ kind: "op", op: b });
  const T = op(true);
  const F = op(false);
  const and: Token<boolean> = { kind: "and" };
  const or: Token<boolean> = { kind: "or" };
  const not: Token<boolean> = { kind: "not" };
  const open: Token<boolean> = { kind: "open" };
  const close: Token<boolean> = { kind: "close" };
  const run = (ts: Token<boolean>[]): boolean => runMatcher(generate(ts), (b) => b);

  it("evaluates git-annex's prop_matcher_sane cases to true", () => {
    const cases: Token<boolean>[][] = [
      [T],
      [],
      [F, or, T, or, F],
      [T, or, T],
      [T, and, T],
      [not, open, T, and, F, close],
      [not, open, not, open, not, F, close, close],
      [not, open, not, open, not, open, not, T, close, close],
      [T, and, not, F],
      [T, not, F],
      [T, not, not, not, F],
      [T, not, not, not, F, and, T],
      [T, not, not, not, F, T],
    ];
    for (const c of cases) assert.equal(run(c), true);
  });

  it("gives implicit and, no precedence, forgiving parentheses", () => {
    assert.deepEqual(generate([T, F]), generate([T, and, F]));
    assert.deepEqual(
      generate([open, T, or, F, close, T]),
      generate([open, T, or, F, close, and, T]),
    );
    // Left to right: (F or T) and F.
    assert.equal(run([F, or, T, and, F]), false);
    assert.equal(run([T, and, open, F, or, T]), true);
    assert.equal(run([T, close, close]), true);
    // Found by the differential test: no implicit "and" inside parentheses,
    // so "( F ( F or T ) )" is "(F and F) or T", while at the top level
    // "F ( F or T )" is "F and (F or T)".
    assert.equal(run([open, F, open, F, or, T, close, close]), true);
    assert.equal(run([F, open, F, or, T, close]), false);
  });
});

describe("parsing", () => {
  it("reports git-annex's errors", () => {
    const errs = (e: string): string[] => {
      const p = parsePreferredContent(e);
      return p.ok ? [] : p.errors;
    };
    assert.deepEqual(errs("foo bar=3 copies=x"), [
      'near "foo"',
      'near "bar=3"',
      "bad number for copies",
    ]);
    assert.deepEqual(errs("copies=a:b:c"), ["bad value for copies"]);
    assert.deepEqual(errs("lackingcopies=x"), ["bad value for number of lacking copies"]);
    assert.deepEqual(errs("largerthan=zz"), ["bad size"]);
    assert.deepEqual(errs("metadata=-x=1"), ['Illegal metadata field name, "-x"']);
    assert.deepEqual(errs("balanced=g:x sizebalanced=a:b:c"), [
      "bad number for balanced",
      "bad value for sizebalanced",
    ]);
    assert.deepEqual(errs("present=1 url=x"), ['near "present=1"', 'near "url=x"']);
    assert.deepEqual(errs('near"é'), ['near "near\\"\\233"']);
    assert.equal(checkPreferredContentExpression("foo"), 'Parse failure: near "foo"');
    assert.equal(checkPreferredContentExpression("include=* and (copies=2 or present)"), null);
  });

  it("parses every standard group's expression", () => {
    for (const g of STANDARD_GROUPS)
      assert.equal(checkPreferredContentExpression(standardExpression(g)), null, g);
  });

  it("tokenizes parentheses apart", () => {
    assert.deepEqual(tokenize("(a)b  (c or\td)"), ["(", "a", ")", "b", "(", "c", "or", "d", ")"]);
  });

  it("shows strings as Haskell does", () => {
    assert.equal(showString('a"b\\'), '"a\\"b\\\\"');
    assert.equal(showString("\u00e91"), '"\\233\\&1"');
    assert.equal(showString("\n\u0001"), '"\\n\\SOH"');
  });
});

describe("values", () => {
  it("reads sizes and numbers as git-annex does (src/sizes)", () => {
    const policy = new Policy(snapshot());
    // the smallest size largerthan=S refuses, and smallerthan=S accepts: S itself
    const sizeOf = (s: string): number | null => {
      const p = parsePreferredContent(`largerthan=${s}`);
      if (!p.ok) return null;
      const at = (n: number): boolean => matches(policy, p.matcher, { mode: "info", size: n }, {});
      let lo = 0;
      let hi = 1e7;
      for (let i = 0; i < 60 && lo < hi; i++) {
        const mid = Math.floor((lo + hi) / 2);
        if (at(mid)) hi = mid;
        else lo = mid + 1;
      }
      return lo - 1;
    };
    assert.equal(sizeOf("100"), 100);
    assert.equal(sizeOf("1kb"), 1000);
    assert.equal(sizeOf("2KiB"), 2048);
    assert.equal(sizeOf("1.5kB"), 1500);
    assert.equal(sizeOf("3megabytes"), 3_000_000);
    assert.equal(sizeOf("1Mbit"), 125_000);
    assert.equal(sizeOf("5."), 5);
    assert.equal(sizeOf("2.5"), 2);
    assert.equal(sizeOf("zz"), null);
    assert.equal(sizeOf("10kbx"), null);
    const metadata = { fields: new Map([["n", { name: "n", values: new Set(["2.5"]) }]]) };
    const key = parseKey("WORM-s1--x");
    const m = (e: string): boolean =>
      matches(policy, parsed(e), { mode: "info", key }, { state: { locations: [], metadata } });
    assert.equal(m("metadata=n>=2.5"), true);
    assert.equal(m("metadata=n>=10"), false); // numerically, though "2.5" > "10" as text
    assert.equal(m("metadata=n>=2.5x"), false); // not a number: compared as text
  });

  it("compiles globs as git-annex does", () => {
    const g = (p: string, s: string, filePath = true): boolean => compileGlob(p, { filePath })(s);
    assert.equal(g("*.txt", "a/b.txt"), true);
    assert.equal(g("a/*", "a//b"), true);
    assert.equal(g("[!a]*", "b"), true);
    assert.equal(g("[!a]*", "a"), false);
    assert.equal(g("?", "ab"), false);
    assert.equal(g("a.b", "axb"), false);
    assert.equal(compileGlob("A*", { caseInsensitive: true })("abc"), true);
  });
});

describe("evaluation", () => {
  const key = parseKey(
    "SHA256E-s1000--0000000000000000000000000000000000000000000000000000000000000000.txt",
  );

  it("fails for missing data only when the term is reached (user mode)", () => {
    const policy = new Policy(snapshot());
    assert.equal(matches(policy, parsed("anything or copies=1"), { mode: "user" }), true);
    assert.throws(() => matches(policy, parsed("copies=1"), { mode: "user" }), NotEnoughDataError);
    assert.throws(
      () => matches(policy, parsed("include=*"), { mode: "user" }),
      /without file data/,
    );
    assert.equal(matches(policy, parsed("inallgroup=nosuch"), { mode: "user" }), true);
    // Info mode: the term is false instead (and exclude true).
    assert.equal(matches(policy, parsed("exclude=*"), { mode: "info", key }), true);
  });

  it("counts copies by trust, group, dead and clusters as git-annex does", () => {
    const cluster = genClusterUuid();
    const policy = new Policy(
      snapshot({
        trust: new Map([
          [A, "trusted"],
          [B, "untrusted"],
          [C, "dead"],
        ]),
        groups: new Map([[A, new Set(["g"])]]),
        clusters: new Map([[D, new Set([cluster])]]),
        numcopies: 3,
      }),
    );
    const state = { locations: [A, B, C, D] };
    const m = (e: string, notPresent: string[] = []): boolean =>
      matches(
        policy,
        parsed(e),
        { mode: "info", key },
        { state, notPresent: new Set(notPresent), repo: A },
      );
    assert.equal(m("copies=3"), true); // A, B, D (C dead, cluster not counted)
    assert.equal(m("copies=4"), false);
    assert.equal(m("copies=trusted:1 and copies=untrusted+:3 and not copies=trusted:2"), true);
    assert.equal(m("copies=g:1 and not copies=g:2"), true);
    assert.equal(m("copies=g:1", [A]), false);
    assert.equal(m("lackingcopies=1"), true); // 3 - |{A, D}| = 1
    assert.equal(m("lackingcopies=2"), false);
    // onlyingroup sees the cluster UUID too.
    assert.equal(m("onlyingroup=g"), false);
  });

  it("recognises unstable expressions where git-annex does", () => {
    const cases: [string, boolean][] = [
      ["not present", true],
      ["not balanced=g", true],
      ["not sizebalanced=g:2", true],
      ["not not present", false],
      ["not fullybalanced=g", false],
      ["present and not copies=2", false],
    ];
    for (const [e, unstable] of cases) assert.equal(!stabilityOf(parsed(e)).stable, unstable, e);
    const s = stabilityOf(parsed("not (present or balanced=g)"));
    assert.ok(!s.stable && s.reason.includes("present balanced=g"));
    // An unstable expression never matches, even when it would.
    const policy = new Policy(snapshot());
    assert.equal(
      runExpression(policy, parsed("not present"), { mode: "info", key }, { repo: A }),
      true,
    );
    assert.equal(matches(policy, parsed("not present"), { mode: "info", key }, { repo: A }), false);
  });

  it("matches metadata by glob and by number", () => {
    const policy = new Policy(snapshot());
    const metadata = {
      fields: new Map([
        ["tag", { name: "Tag", values: new Set(["Foo", "bar"]) }],
        ["n", { name: "n", values: new Set(["10"]) }],
      ]),
    };
    const m = (e: string): boolean =>
      matches(policy, parsed(e), { mode: "info", key }, { state: { locations: [], metadata } });
    assert.equal(m("metadata=tag=foo"), true);
    assert.equal(m("metadata=TAG=b*"), true);
    assert.equal(m("metadata=tag=baz"), false);
    assert.equal(m("metadata=n>9"), true); // numerically, though "10" < "9" as text
    assert.equal(m("metadata=n<=9.5"), false);
    assert.equal(m("metadata=tag<c"), true);
  });
});

describe("wants", () => {
  const key = parseKey(
    "SHA256E-s10--1111111111111111111111111111111111111111111111111111111111111111.txt",
  );

  it("expands standard and groupwanted per repository, and falls back to present", () => {
    const policy = new Policy(
      snapshot({
        groups: new Map([
          [A, new Set(["archive"])],
          [B, new Set(["backup"])],
          [C, new Set(["mine"])],
        ]),
        preferred: new Map([
          [A, "standard"],
          [B, "standard"],
          [C, "groupwanted"],
          [D, "bogus=1"],
        ]),
        groupPreferred: new Map([["mine", "include=*.txt"]]),
      }),
    );
    const state = { locations: [] as string[] };
    assert.equal(wantsKey(policy, A, key, { state }), true); // archive: not archived yet
    // Once archived here it is not wanted again, but kept (the drop question).
    assert.equal(wantsKey(policy, A, key, { state: { locations: [A] } }), false);
    assert.equal(wantsKey(policy, A, key, { state: { locations: [A] }, dropping: true }), true);
    assert.equal(wantsKey(policy, B, key, { state }), true);
    assert.equal(wantsKey(policy, C, key, { file: "x.txt", state }), true);
    assert.equal(wantsKey(policy, C, key, { file: "x.bin", state }), false);
    // Unparseable: only what it has.
    assert.equal(wantsKey(policy, D, key, { state }), false);
    assert.equal(wantsKey(policy, D, key, { state: { locations: [D] } }), true);
    // No expression: wanted (the default), not required.
    const none = "eeeeeeee-0000-4000-8000-000000000005";
    assert.equal(wantsKey(policy, none, key, { state }), true);
    assert.equal(requiresKey(policy, none, key, { state }), false);
  });

  it("asks the drop question as if the copy were gone, and respects numcopies", () => {
    const policy = new Policy(
      snapshot({
        preferred: new Map([
          [A, "not copies=2"],
          [B, "nothing"],
        ]),
        numcopies: 1,
      }),
    );
    const state = { locations: [A, B] };
    assert.equal(wantsKey(policy, A, key, { state }), false);
    assert.equal(wantsKey(policy, A, key, { state, dropping: true }), true);
    assert.equal(mayDropByLog(policy, B, key, state), true);
    assert.equal(mayDropByLog(policy, B, key, { locations: [B] }), false);
    const required = new Policy(
      snapshot({ preferred: new Map([[B, "nothing"]]), required: new Map([[B, "anything"]]) }),
    );
    assert.equal(wantsKey(required, B, key, { state }), true);
    assert.equal(mayDropByLog(required, B, key, state), false);
  });

  it("finds an unstable groupwanted through the repository's expression", () => {
    const policy = new Policy(
      snapshot({
        groups: new Map([[A, new Set(["g"])]]),
        preferred: new Map([
          [A, "not groupwanted"],
          [B, "not groupwanted"],
        ]),
        groupPreferred: new Map([["g", "present or copies=1"]]),
      }),
    );
    assert.equal(repositoryStability(policy, A).stable, false);
    // B is in no group: groupwanted stands for "present", also unstable.
    assert.equal(repositoryStability(policy, B).stable, false);
    assert.equal(wantsKey(policy, A, key, { state: { locations: [] } }), false);
  });
});

describe("inpreferreddir", () => {
  it("reads preferreddir from remote.log and matches the file's own directory", () => {
    const dirs = preferredDirsOf(
      `${A} name=pub type=directory preferreddir=my&32;dir timestamp=1s\n${B} name=x type=directory timestamp=1s\n`,
    );
    assert.deepEqual(dirs, new Map([[A, "my dir"]]));
    const policy = new Policy(
      snapshot({
        preferredDirs: dirs,
        preferred: new Map([
          [A, "inpreferreddir"],
          [B, "inpreferreddir"],
        ]),
      }),
    );
    const key = parseKey("WORM--k");
    const want = (u: string, file: string): boolean =>
      wantsKey(policy, u, key, { file, state: { locations: [] } });
    assert.equal(want(A, "my dir/f"), true);
    assert.equal(want(A, "x/my dir/f"), true);
    assert.equal(want(A, "my dir/sub/f"), false);
    assert.equal(want(B, "public/f"), true);
    assert.equal(want(B, "f"), false);
  });
});
