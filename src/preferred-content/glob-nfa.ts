/**
 * Runs a glob's pieces (glob-regex.ts) over a string as a set of states,
 * one pass, never backtracking: O(input length × pieces) whatever the
 * input, which is what lets a client-supplied associated file of any shape
 * be matched without stalling the server (a backtracking RegExp took tens
 * of seconds on a few thousand "/").
 *
 * State i means "pieces before i have matched". The search is unanchored
 * like the engine's (a match may start anywhere), "^" passes only at the
 * start or after a newline and "$" only at the end or before one, so a
 * glob matches when some whole line matches it (unless the glob itself
 * names a newline, which then matches one).
 */
import type { CharTest, Piece } from "./glob-regex.js";

const NEWLINE = 10;
const BOL = 0;
const EOL = 1;
const ONE = 2;
const STAR = 3;
const QUEST = 4;

/** Counts the work a match does, so tests can bound it without a clock. */
export interface GlobMeter {
  steps: number;
}

export class GlobAutomaton {
  readonly #kinds: Uint8Array;
  readonly #tests: CharTest[];
  /** Each piece's answers for ASCII characters, piece i at i * 128. */
  readonly #ascii: Uint8Array;
  readonly #cur: Uint8Array;
  readonly #next: Uint8Array;

  /** For up to 30 pieces, the same automaton as bits of one integer (see #matchesInBits). */
  readonly #bits: BitTables | undefined;

  /** `bitParallel: false` forces the general loop (for tests that compare the two). */
  constructor(pieces: readonly Piece[], opts: { bitParallel?: boolean } = {}) {
    // Adjacent identical stars ("**" became ".*.*") match what one does.
    const kept = pieces.filter(
      (p, i) =>
        !(p.kind === "char" && p.repeat === "star" && i > 0 && sameStar(pieces[i - 1], p.test)),
    );
    this.#kinds = Uint8Array.from(kept, (p) =>
      p.kind === "bol"
        ? BOL
        : p.kind === "eol"
          ? EOL
          : p.repeat === "one"
            ? ONE
            : p.repeat === "star"
              ? STAR
              : QUEST,
    );
    this.#tests = kept.map((p) => (p.kind === "char" ? p.test : () => false));
    this.#ascii = new Uint8Array(kept.length * 128);
    kept.forEach((p, i) => {
      if (p.kind === "char")
        for (let c = 0; c < 128; c++) this.#ascii[i * 128 + c] = p.test(c) ? 1 : 0;
    });
    this.#bits =
      opts.bitParallel !== false && kept.length <= 30
        ? bitTables(this.#kinds, this.#ascii)
        : undefined;
    this.#cur = new Uint8Array(kept.length + 1);
    this.#next = new Uint8Array(kept.length + 1);
  }

  /** Whether some part of `s` running from a line start to a line end matches. */
  matches(s: string, meter?: GlobMeter): boolean {
    if (this.#bits !== undefined) return this.#matchesInBits(this.#bits, s, meter);
    const kinds = this.#kinds;
    const tests = this.#tests;
    const ascii = this.#ascii;
    const m = kinds.length;
    let cur = this.#cur;
    let next = this.#next;
    for (let i = 0; i <= m; i++) cur[i] = 0;
    let pos = 0;
    let steps = 0;
    try {
      for (;;) {
        cur[0] = 1; // a match may start at any position
        const atBol = atLineStart(s, pos);
        const end = pos >= s.length;
        const atEol = end || s.charCodeAt(pos) === NEWLINE;
        let c = end ? -1 : s.charCodeAt(pos);
        if (c >= 0xd800 && c <= 0xdbff) c = s.codePointAt(pos) as number;
        for (let i = 0; i <= m; i++) next[i] = 0;
        let live = false;
        // Epsilon moves only go forward, so one pass in order both closes
        // the set and steps it over the next character.
        for (let i = 0; i < m; i++) {
          if (cur[i] === 0) continue;
          steps++;
          const k = kinds[i];
          if (k === BOL || k === EOL) {
            if (k === BOL ? atBol : atEol) cur[i + 1] = 1;
            continue;
          }
          if (k !== ONE) cur[i + 1] = 1;
          if (c < 0 || (c < 128 ? ascii[i * 128 + c] === 0 : !(tests[i] as CharTest)(c))) continue;
          next[k === STAR ? i : i + 1] = 1;
          live = true;
        }
        if (cur[m] === 1) return true;
        if (end) return false;
        pos += c > 0xffff ? 2 : 1;
        const done = cur;
        cur = next;
        next = done;
        if (!live && m > 0 && kinds[0] === BOL && !atLineStart(s, pos)) {
          // Nothing is under way and a new try needs a line start: skip to the next one.
          const nl = s.indexOf("\n", pos);
          if (nl < 0) return false;
          pos = nl + 1;
          steps++;
        }
      }
    } finally {
      if (meter !== undefined) meter.steps += steps;
    }
  }

  /**
   * The same run with the state set as bits (bit i: state i), a few integer
   * operations per character instead of a loop over the pieces.
   */
  #matchesInBits(b: BitTables, s: string, meter?: GlobMeter): boolean {
    const m = this.#kinds.length;
    const final = 1 << m;
    let d = 0;
    let pos = 0;
    let steps = 0;
    try {
      for (;;) {
        d |= 1;
        const end = pos >= s.length;
        const eps =
          b.nullable |
          (atLineStart(s, pos) ? b.bol : 0) |
          (end || s.charCodeAt(pos) === NEWLINE ? b.eol : 0);
        // Epsilon moves go one piece forward each; at most m rounds.
        for (let nd = d | ((d & eps) << 1); nd !== d; nd = d | ((d & eps) << 1)) {
          d = nd;
          steps++;
        }
        steps++;
        if ((d & final) !== 0) return true;
        if (end) return false;
        let c = s.charCodeAt(pos);
        if (c >= 0xd800 && c <= 0xdbff) c = s.codePointAt(pos) as number;
        pos += c > 0xffff ? 2 : 1;
        const one = c < 128 ? (b.one[c] as number) : this.#maskOf(c, ONE);
        const star = c < 128 ? (b.star[c] as number) : this.#maskOf(c, STAR);
        d = ((d & one) << 1) | (d & star);
        if (d === 0 && this.#kinds[0] === BOL && !atLineStart(s, pos)) {
          const nl = s.indexOf("\n", pos);
          if (nl < 0) return false;
          pos = nl + 1;
        }
      }
    } finally {
      if (meter !== undefined) meter.steps += steps;
    }
  }

  /** The bits of pieces that step over `c`: ONE and QUEST pieces, or STAR pieces. */
  #maskOf(c: number, which: typeof ONE | typeof STAR): number {
    let mask = 0;
    this.#kinds.forEach((k, i) => {
      const counts = which === STAR ? k === STAR : k === ONE || k === QUEST;
      if (counts && (this.#tests[i] as CharTest)(c)) mask |= 1 << i;
    });
    return mask;
  }
}

interface BitTables {
  readonly nullable: number;
  readonly bol: number;
  readonly eol: number;
  /** Per ASCII character: bits of ONE/QUEST pieces that step over it (to the next state). */
  readonly one: Int32Array;
  /** Per ASCII character: bits of STAR pieces that step over it (staying). */
  readonly star: Int32Array;
}

function bitTables(kinds: Uint8Array, ascii: Uint8Array): BitTables {
  let nullable = 0;
  let bol = 0;
  let eol = 0;
  const one = new Int32Array(128);
  const star = new Int32Array(128);
  kinds.forEach((k, i) => {
    const bit = 1 << i;
    if (k === BOL) bol |= bit;
    else if (k === EOL) eol |= bit;
    else {
      if (k !== ONE) nullable |= bit;
      const into = k === STAR ? star : one;
      for (let c = 0; c < 128; c++)
        if (ascii[i * 128 + c] === 1) into[c] = (into[c] as number) | bit;
    }
  });
  return { nullable, bol, eol, one, star };
}

function atLineStart(s: string, pos: number): boolean {
  return pos === 0 || s.charCodeAt(pos - 1) === NEWLINE;
}

function sameStar(prev: Piece | undefined, test: CharTest): boolean {
  return prev?.kind === "char" && prev.repeat === "star" && prev.test === test;
}
