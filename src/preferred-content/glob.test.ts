import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BadGlobError, compileGlob, compileGlobAutomaton, globToRegexSource } from "./glob.js";
import { GlobAutomaton } from "./glob-nfa.js";
import { type Piece, parseGlobRegex } from "./glob-regex.js";

const NL = 10;

// ---- reference 1: a glob read directly (well-formed globs only) -------------

type Tok =
  | { t: "star" | "any" | "slashes" | "backslashes" }
  | { t: "lit"; c: string }
  | { t: "class"; neg: boolean; has: (c: string) => boolean };

/** Tokens of a well-formed glob, or "bad" for a backwards range. */
function refTokens(glob: string, filePath: boolean): Tok[] | "bad" {
  const cs = [...glob];
  const out: Tok[] = [];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as string;
    if (c === "*") out.push({ t: "star" });
    else if (c === "?") out.push({ t: "any" });
    else if (c === "/" && filePath) out.push({ t: "slashes" });
    else if (c === "\\" && filePath) out.push({ t: "backslashes" });
    else if (c !== "[") out.push({ t: "lit", c });
    else {
      const neg = cs[i + 1] === "!";
      const close = cs.indexOf("]", i + 1);
      const body = cs.slice(i + (neg ? 2 : 1), close);
      const singles: string[] = [];
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        const [a, dash, b] = [body[j] as string, body[j + 1], body[j + 2]];
        if (dash === "-" && b !== undefined) {
          if (a > b) return "bad";
          ranges.push([a, b]);
          j += 2;
        } else singles.push(a);
      }
      const has = (x: string): boolean =>
        singles.includes(x) || ranges.some(([a, b]) => x >= a && x <= b);
      out.push({ t: "class", neg, has });
      i = close;
    }
  }
  return out;
}

/** Whether a whole line-aligned part of s matches, by plain backtracking. */
function refMatch(toks: Tok[], s: string): boolean {
  const go = (k: number, p: number): boolean => {
    if (k === toks.length) return p === s.length || s[p] === "\n";
    const t = toks[k] as Tok;
    const c = s[p];
    switch (t.t) {
      case "star":
        return go(k + 1, p) || (c !== undefined && c !== "\n" && go(k, p + 1));
      case "any":
        return c !== undefined && c !== "\n" && go(k + 1, p + 1);
      case "slashes":
      case "backslashes": {
        const want = t.t === "slashes" ? "/" : "\\";
        for (let q = p; s[q] === want; q++) if (go(k + 1, q + 1)) return true;
        return false;
      }
      case "lit":
        return c === t.c && go(k + 1, p + 1);
      case "class":
        if (c === undefined) return false;
        return (t.neg ? c !== "\n" && !t.has(c) : t.has(c)) && go(k + 1, p + 1);
    }
  };
  for (let i = 0; i <= s.length; i++) if ((i === 0 || s[i - 1] === "\n") && go(0, i)) return true;
  return false;
}

// ---- reference 2: the parsed pieces, by plain backtracking --------------------

function refPieces(pieces: readonly Piece[], s: string): boolean {
  const cps = [...s].map((c) => c.codePointAt(0) as number);
  const go = (k: number, p: number): boolean => {
    if (k === pieces.length) return true;
    const x = pieces[k] as Piece;
    if (x.kind === "bol") return (p === 0 || cps[p - 1] === NL) && go(k + 1, p);
    if (x.kind === "eol") return (p === cps.length || cps[p] === NL) && go(k + 1, p);
    const ok = p < cps.length && x.test(cps[p] as number);
    if (x.repeat === "one") return ok && go(k + 1, p + 1);
    if (x.repeat === "quest") return go(k + 1, p) || (ok && go(k + 1, p + 1));
    return go(k + 1, p) || (ok && go(k, p + 1));
  };
  for (let i = 0; i <= cps.length; i++) if (go(0, i)) return true;
  return false;
}

// ---- generators -------------------------------------------------------------

const ALPHABET = ["a", "b", "/", ".", "\n", "*", "?", "\\"];
const inputs = fc
  .array(fc.constantFrom("a", "b", "/", ".", "\n", "*", "?", "[", "]", "\\", "-"), {
    maxLength: 10,
  })
  .map((cs) => cs.join(""));
const classBody = fc
  .array(fc.constantFrom("a", "b", "/", ".", "\n", "*", "?", "\\", "-"), {
    minLength: 1,
    maxLength: 3,
  })
  .map((cs) => cs.join(""));
const wellFormed = fc
  .array(
    fc.oneof(
      fc.constantFrom(...ALPHABET),
      fc.tuple(fc.boolean(), classBody).map(([neg, b]) => `[${neg ? "!" : ""}${b}]`),
    ),
    { maxLength: 7 },
  )
  .map((ts) => ts.join(""));
const anyPattern = fc
  .array(fc.constantFrom(...ALPHABET, "[", "]", "!", "^", ":", "=", "-", "$", "(", "|", "{", "1"), {
    maxLength: 9,
  })
  .map((cs) => cs.join(""));

function compileOrBad(glob: string, filePath: boolean): ((s: string) => boolean) | "bad" {
  try {
    return compileGlob(glob, { filePath });
  } catch (e) {
    if (e instanceof BadGlobError) return "bad";
    throw e;
  }
}

describe("globs", () => {
  it("agree with a direct reading of well-formed globs", () => {
    fc.assert(
      fc.property(wellFormed, inputs, fc.boolean(), (glob, s, filePath) => {
        const ref = refTokens(glob, filePath);
        const ours = compileOrBad(glob, filePath);
        if (ref === "bad" || ours === "bad") assert.equal(ours, ref);
        else assert.equal(ours(s), refMatch(ref, s), JSON.stringify({ glob, s, filePath }));
      }),
      { numRuns: 3000, seed: 20250416 },
    );
  });

  it("run any glob's regex as backtracking over the same pieces would", () => {
    let bad = 0;
    fc.assert(
      fc.property(anyPattern, inputs, fc.boolean(), fc.boolean(), (glob, s, filePath, ci) => {
        let pieces: Piece[];
        try {
          pieces = parseGlobRegex(`^${globToRegexSource(glob, filePath)}$`, ci);
        } catch {
          bad++;
          assert.throws(() => compileGlob(glob, { filePath, caseInsensitive: ci }), BadGlobError);
          return;
        }
        const want = refPieces(pieces, s);
        const why = JSON.stringify({ glob, s, filePath, ci });
        assert.equal(compileGlob(glob, { filePath, caseInsensitive: ci })(s), want, why);
        // The general loop, used above 30 pieces, must agree too.
        assert.equal(new GlobAutomaton(pieces, { bitParallel: false }).matches(s), want, why);
      }),
      { numRuns: 3000, seed: 12 },
    );
    assert.ok(bad > 0 && bad < 2500, `${bad} of 3000 patterns were refused`);
  });

  // Each answer below is what stock git-annex 10.20250416 gave for
  // `git annex matchexpression include=GLOB --file=FILE`.
  it("match what git-annex matches, including its bracket quirks", () => {
    const g = (glob: string, s: string): boolean => compileGlob(glob, { filePath: true })(s);
    assert.equal(g("*.jpg", "a.txt\nb.jpg"), true); // some whole line matches
    assert.equal(g("a", "x\na\ny"), true);
    assert.equal(g("a*", "ab\ncd"), true);
    assert.equal(g("a?c", "a\nc"), false); // "?" never matches a newline
    assert.equal(g("a[!b]c", "a\nc"), false); // nor does a negated class
    assert.equal(g("a[!b]c", "axc"), true);
    assert.equal(g("[]a]", "a"), true); // the engine reads "[]a\]" as one class
    assert.equal(g("[]a]", "]"), true);
    assert.equal(g("[]a]", "\\"), true);
    assert.equal(g("[]a]", "a]"), false);
    assert.equal(g("[[:alpha:]]", "a"), true); // "[[:alpha:]\]": alpha or backslash
    assert.equal(g("[[:alpha:]]", "a]"), false);
    assert.equal(g("[[:alpha:]]", "\\"), true);
    assert.equal(g("a/b", "a///b"), true);
    assert.equal(g("a\\b", "a\\\\\\b"), true);
    assert.equal(g("A", "a"), false);
    for (const bad of ["[z-a]", "[a", "[]"]) {
      assert.throws(() => compileGlob(bad, { filePath: true }), BadGlobError, bad);
    }
  });

  it("let a newline in the glob itself match one", () => {
    assert.equal(compileGlob("a\nb")("a\nb"), true);
    assert.equal(compileGlob("a[\n]b")("a\nb"), true);
    assert.equal(compileGlob("a*b")("a\nb"), false);
  });

  it("fold case as the regex engine does when asked", () => {
    const ci = (glob: string, s: string): boolean =>
      compileGlob(glob, { caseInsensitive: true })(s);
    assert.equal(ci("A*", "abc"), true);
    assert.equal(ci("[a-c]x", "BX"), true);
    assert.equal(ci("[!a]", "A"), false);
    assert.equal(ci("É", "é"), true);
    assert.equal(ci("1", "1"), true);
  });
});

describe("globs against hostile input", () => {
  const NASTY = [
    "photos/*/*.jpg",
    "*/*/*/*/*/*/*/*/*/*.jpg",
    "*a*a*a*a*a*a*a*b",
    "**************x",
    "*?*?*?*?*?*?*?*?*",
    "[!/]*/[!/]*/[!/]*/x",
    "a/a/a/a/a/a/a/a/a/a/b",
    "*[ab]*[ab]*[ab]*[ab]*c",
    "*.*.*.*.*.*.*.z",
    "*/",
    "??????????????????????????????!",
    "[[:alpha:]]*[[:digit:]]*/*/*/?",
  ];
  const N = 100_000;
  const INPUTS = [
    "/".repeat(N),
    "a".repeat(N),
    "a/".repeat(N / 2),
    "*".repeat(N),
    "photos/".repeat(N / 7),
    `${"a\n".repeat(N / 2 - 1)}ab`,
    `${"ab".repeat(N / 2 - 1)}`,
  ];

  it("do work bounded by input length times pattern length", () => {
    for (const glob of NASTY) {
      const pieces = parseGlobRegex(`^${globToRegexSource(glob, true)}$`, false);
      const automata = [
        compileGlobAutomaton(glob, { filePath: true }),
        new GlobAutomaton(pieces, { bitParallel: false }),
      ];
      for (const s of INPUTS) {
        const answers = automata.map((a) => {
          const meter = { steps: 0 };
          const matched = a.matches(s, meter);
          // Each glob character is at most two pieces, plus "^" and "$".
          const bound = (s.length + 1) * (2 * [...glob].length + 3);
          assert.ok(meter.steps <= bound, `${glob}: ${meter.steps} steps > ${bound}`);
          assert.ok(meter.steps > 0);
          return matched;
        });
        assert.equal(answers[0], answers[1], glob);
      }
    }
  });

  it("still answer correctly on them", () => {
    const g = (glob: string, s: string): boolean => compileGlob(glob, { filePath: true })(s);
    assert.equal(g("photos/*/*.jpg", `photos/${"/".repeat(N)}x/y.jpg`), true);
    assert.equal(g("photos/*/*.jpg", `photos/${"/".repeat(N)}x`), false);
    assert.equal(g("*a*a*a*a*a*a*a*b", "a".repeat(N)), false);
    assert.equal(g("*a*a*a*a*a*a*a*b", `${"a".repeat(N)}b`), true);
    assert.equal(g("*/", "a/".repeat(N / 2)), true);
    assert.equal(g("?".repeat(10), `${"x\n".repeat(N / 2)}0123456789`), true);
  });
});
