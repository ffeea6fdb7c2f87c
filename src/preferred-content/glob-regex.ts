/**
 * The regular expressions git-annex makes from globs, read as its regex
 * engine (regex-tdfa 1.3.2, POSIX extended syntax, git-annex's options:
 * newline-sensitive, case per glob) reads them, into a flat list of pieces
 * that glob-nfa.ts runs in linear time.
 *
 * Why not translate the glob directly: git-annex's glob-to-regex step
 * (Utility/Glob.hs) copies a class's text verbatim, so the regex engine
 * decides where a class really ends ("[]a]", "[[:alpha:]]", "[a-]" and an
 * unclosed "[" all behave as the engine's bracket rules say). Parsing the
 * same regex text by the same rules is how we agree on every such case.
 *
 * Only the part of the syntax such regexes can reach is supported: atoms
 * (literal, escaped, ".", brackets), the anchors "^" and "$", and one of
 * "*", "+", "?" after an atom. Groups, alternation and "{n,m}" never come
 * out of the translation (their characters are escaped outside classes);
 * meeting one anyway is reported as a bad glob rather than guessed at.
 */

/** What one input character must be for a piece to step over it. */
export type CharTest = (cp: number) => boolean;

export type Piece =
  | { readonly kind: "bol" }
  | { readonly kind: "eol" }
  | { readonly kind: "char"; readonly test: CharTest; readonly repeat: "one" | "star" | "quest" };

export class RegexSyntaxError extends Error {}

const NEWLINE = 10;

/** "." (shared, so that repeated ".*" can be seen to be the same). */
export const ANY_BUT_NEWLINE: CharTest = (x) => x !== NEWLINE;

/** Inclusive code-point ranges. */
type Ranges = [number, number][];

/** regex-tdfa's POSIX classes, as it spells them out (including its narrow "graph"). */
const CLASSES: Readonly<Record<string, Ranges>> = {
  alnum: [
    [48, 57],
    [65, 90],
    [97, 122],
  ],
  digit: [[48, 57]],
  punct: [
    [33, 47],
    [58, 64],
    [91, 96],
    [123, 126],
  ],
  alpha: [
    [65, 90],
    [97, 122],
  ],
  graph: [[41, 126]],
  space: [
    [9, 13],
    [32, 32],
  ],
  blank: [
    [9, 9],
    [32, 32],
  ],
  lower: [[97, 122]],
  upper: [[65, 90]],
  cntrl: [
    [0, 31],
    [127, 127],
  ],
  print: [[32, 126]],
  xdigit: [
    [48, 57],
    [65, 70],
    [97, 102],
  ],
  word: [
    [48, 57],
    [65, 90],
    [95, 95],
    [97, 122],
  ],
};

const LETTER = /\p{L}/u;

/** Haskell's isAlpha (any Unicode letter). */
function isLetter(cp: number): boolean {
  return LETTER.test(String.fromCodePoint(cp));
}

/** A one-to-one case mapping, as Haskell's toUpper/toLower (a mapping to several characters keeps the character). */
function simpleCase(cp: number, upper: boolean): number {
  const s = String.fromCodePoint(cp);
  const m = upper ? s.toUpperCase() : s.toLowerCase();
  const out = m.codePointAt(0) as number;
  return m.length === String.fromCodePoint(out).length ? out : cp;
}

function inRanges(ranges: Ranges, cp: number): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

/**
 * Membership in a set as the engine compiles it: case-insensitively, a
 * letter c in the set stands for toUpper c and toLower c (not c itself),
 * anything else for itself. Characters whose case maps many-to-one outside
 * ASCII (the Kelvin sign, dotless i) are only found from their own mapping.
 */
function member(ranges: Ranges, caseless: boolean): CharTest {
  if (!caseless) return (cp) => inRanges(ranges, cp);
  return (x) => {
    for (const c of [x, simpleCase(x, false), simpleCase(x, true)]) {
      if (!inRanges(ranges, c)) continue;
      if (!isLetter(c)) {
        if (c === x) return true;
      } else if (simpleCase(c, true) === x || simpleCase(c, false) === x) return true;
    }
    return false;
  };
}

class Reader {
  pos = 0;
  constructor(readonly cs: readonly string[]) {}
  peek(k = 0): string | undefined {
    return this.cs[this.pos + k];
  }
  /** "[:" name ":]" (and the "=" and "." forms): the name, or undefined with nothing consumed. */
  delimited(mark: string): string | undefined {
    if (this.peek() !== "[" || this.peek(1) !== mark) return undefined;
    let i = this.pos + 2;
    let name = "";
    while (i < this.cs.length && this.cs[i] !== mark && this.cs[i] !== "]") name += this.cs[i++];
    if (name === "" || this.cs[i] !== mark || this.cs[i + 1] !== "]") return undefined;
    this.pos = i + 2;
    return name;
  }
}

const cp = (c: string): number => c.codePointAt(0) as number;

/** One bracket element (ReadRegex p_set_elem), added to `ranges`; false at "]" or the end. */
function bracketElement(r: Reader, ranges: Ranges): boolean {
  const c = r.peek();
  if (c === undefined || c === "]") return false;
  const cls = r.delimited(":");
  if (cls !== undefined) {
    ranges.push(...(CLASSES[cls] ?? []));
    return true;
  }
  const equiv = r.delimited("=");
  if (equiv !== undefined) {
    for (const e of equiv) ranges.push([cp(e), cp(e)]);
    return true;
  }
  // A collating element is accepted and, as in the engine, stands for nothing.
  if (r.delimited(".") !== undefined) return true;
  const end = r.peek(2);
  if (r.peek(1) === "-" && end !== undefined && end !== "]") {
    if (cp(c) > cp(end)) throw new RegexSyntaxError(`range ${c}-${end} is backwards`);
    ranges.push([cp(c), cp(end)]);
    r.pos += 3;
    return true;
  }
  ranges.push([cp(c), cp(c)]);
  r.pos += 1;
  return true;
}

/** After "[": the set's test (ReadRegex p_set), newline never in a negated set. */
function bracket(r: Reader, caseless: boolean): CharTest {
  const negated = r.peek() === "^";
  if (negated) r.pos += 1;
  const ranges: Ranges = [];
  if (r.peek() === "]") {
    ranges.push([93, 93]);
    r.pos += 1;
  }
  while (bracketElement(r, ranges));
  if (r.peek() !== "]") throw new RegexSyntaxError("unclosed bracket");
  r.pos += 1;
  if (!negated) return member(ranges, caseless);
  ranges.push([NEWLINE, NEWLINE]);
  const inSet = member(ranges, caseless);
  return (x) => !inSet(x);
}

/** One atom's test (ReadRegex p_atom), or undefined at an anchor. */
function atom(r: Reader, caseless: boolean): CharTest {
  const c = r.peek() as string;
  r.pos += 1;
  if (c === ".") return ANY_BUT_NEWLINE;
  if (c === "[") return bracket(r, caseless);
  if (c === "(" || c === "|") throw new RegexSyntaxError(`unsupported ${c}`);
  if (c === "{" && /^[0-9]$/.test(r.peek() ?? "")) throw new RegexSyntaxError("bad {");
  if ("^$)*+?".includes(c)) throw new RegexSyntaxError(`unexpected ${c}`);
  let lit = c;
  if (c === "\\") {
    const next = r.peek();
    if (next === undefined) throw new RegexSyntaxError("trailing backslash");
    lit = next;
    r.pos += 1;
  }
  const want = cp(lit);
  return caseless ? member([[want, want]], true) : (x) => x === want;
}

/**
 * Reads a regex as regex-tdfa would, into pieces ("x+" becomes "x x*").
 * Throws RegexSyntaxError where the engine would refuse it (or where it
 * uses syntax a glob never produces).
 */
export function parseGlobRegex(regex: string, caseless: boolean): Piece[] {
  const r = new Reader([...regex]);
  const pieces: Piece[] = [];
  while (r.peek() !== undefined) {
    const c = r.peek();
    if (c === "^" || c === "$") {
      r.pos += 1;
      pieces.push({ kind: c === "^" ? "bol" : "eol" });
      if (r.peek() !== undefined && "*+?".includes(r.peek() as string)) {
        throw new RegexSyntaxError("repeated anchor");
      }
      continue;
    }
    const test = atom(r, caseless);
    const post = r.peek();
    if (post === "{" && /^[0-9]$/.test(r.peek(1) ?? ""))
      throw new RegexSyntaxError("unsupported {");
    if (post === "*" || post === "?") {
      r.pos += 1;
      pieces.push({ kind: "char", test, repeat: post === "*" ? "star" : "quest" });
    } else if (post === "+") {
      r.pos += 1;
      pieces.push({ kind: "char", test, repeat: "one" }, { kind: "char", test, repeat: "star" });
    } else pieces.push({ kind: "char", test, repeat: "one" });
  }
  return pieces;
}
