/**
 * Globs exactly as git-annex 10.20250416 matches them (Utility/Glob.hs):
 * the glob is turned into a POSIX regex ("*" → ".*", "?" → ".", "[...]"
 * and "[!...]" copied as brackets, letters and digits as themselves, every
 * other character escaped; for file paths "/" → "[/]+" and "\" → "[\]+"),
 * anchored "^...$", and handed to regex-tdfa with its default options:
 * newline-sensitive (so "." and negated classes never match a newline,
 * "^"/"$" match at line boundaries, and a glob matches when some line of
 * the string matches it whole) and case-sensitive unless asked.
 *
 * We read that same regex text by the engine's rules (glob-regex.ts) and
 * run it as a set of states (glob-nfa.ts): time linear in the input,
 * since the input (an associated file, a metadata value) comes from the
 * network. A glob whose regex the engine refuses ("[z-a]", an unclosed
 * "[") is a BadGlobError, raised when first used, as git-annex does.
 */
import { AnnexgateError } from "../errors.js";
import { GlobAutomaton } from "./glob-nfa.js";
import { parseGlobRegex, RegexSyntaxError } from "./glob-regex.js";

export type { GlobAutomaton, GlobMeter } from "./glob-nfa.js";

export class BadGlobError extends AnnexgateError {
  constructor(glob: string, cause?: unknown) {
    super(
      "AG_BAD_GLOB",
      `failed to compile regex for glob ${JSON.stringify(glob)}`,
      { glob },
      cause,
    );
  }
}

export interface GlobOptions {
  readonly caseInsensitive?: boolean;
  readonly filePath?: boolean;
}

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const LETTER = /^\p{L}$/u;

/** The regular expression git-annex builds for a glob (between ^ and $). */
export function globToRegexSource(glob: string, filePath: boolean): string {
  const cs = [...glob];
  let out = "";
  let i = 0;
  while (i < cs.length) {
    const c = cs[i] as string;
    i += 1;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      if (cs[i] === "!") {
        i += 1;
        out += "[^";
      } else out += "[";
      // A class's text goes over as it is, up to the first "]".
      while (i < cs.length) {
        const d = cs[i] as string;
        i += 1;
        if (d === "]") {
          out += "]";
          break;
        }
        out += d === "\\" ? "\\\\" : d;
      }
    } else if (c === "/" && filePath) out += "[/]+";
    else if (c === "\\" && filePath) out += "[\\]+";
    else out += isDigit(c) || LETTER.test(c) ? c : `\\${c}`;
  }
  return out;
}

export type Glob = (s: string) => boolean;

/** A compiled glob that can also report how much work each match took. */
export function compileGlobAutomaton(glob: string, opts: GlobOptions = {}): GlobAutomaton {
  const regex = `^${globToRegexSource(glob, opts.filePath === true)}$`;
  try {
    return new GlobAutomaton(parseGlobRegex(regex, opts.caseInsensitive === true));
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new BadGlobError(glob, e);
    throw e;
  }
}

/** Compiles a glob; throws BadGlobError when git-annex's regex engine would refuse it. */
export function compileGlob(glob: string, opts: GlobOptions = {}): Glob {
  const a = compileGlobAutomaton(glob, opts);
  return (s) => a.matches(s);
}
