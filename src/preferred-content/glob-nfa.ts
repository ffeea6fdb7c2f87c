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
  private readonly kinds: Uint8Array;
  private readonly tests: CharTest[];
  /** Each piece's answers for ASCII characters, piece i at i * 128. */
  private readonly ascii: Uint8Array;
  private readonly cur: Uint8Array;
  private readonly next: Uint8Array;

  constructor(pieces: readonly Piece[]) {
    // Adjacent identical stars ("**" became ".*.*") match what one does.
    const kept = pieces.filter(
      (p, i) =>
        !(p.kind === "char" && p.repeat === "star" && i > 0 && sameStar(pieces[i - 1], p.test)),
    );
    this.kinds = Uint8Array.from(kept, (p) =>
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
    this.tests = kept.map((p) => (p.kind === "char" ? p.test : () => false));
    this.ascii = new Uint8Array(kept.length * 128);
    kept.forEach((p, i) => {
      if (p.kind === "char")
        for (let c = 0; c < 128; c++) this.ascii[i * 128 + c] = p.test(c) ? 1 : 0;
    });
    this.cur = new Uint8Array(kept.length + 1);
    this.next = new Uint8Array(kept.length + 1);
  }

  /** Whether some part of `s` running from a line start to a line end matches. */
  matches(s: string, meter?: GlobMeter): boolean {
    const { kinds, tests, ascii } = this;
    const m = kinds.length;
    let cur = this.cur;
    let next = this.next;
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
}

function atLineStart(s: string, pos: number): boolean {
  return pos === 0 || s.charCodeAt(pos - 1) === NEWLINE;
}

function sameStar(prev: Piece | undefined, test: CharTest): boolean {
  return prev?.kind === "char" && prev.repeat === "star" && prev.test === test;
}
