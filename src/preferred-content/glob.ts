/**
 * Globs as git-annex compiles them (Utility/Glob.hs): "*" any run of
 * characters, "?" one character, "[...]" and "[!...]" classes, every
 * other non-alphanumeric character literal. When matching file paths a
 * "/" in the glob matches one or more "/". Compiled to a RegExp anchored at
 * both ends; like git-annex's regex engine, "." does not cross a line break.
 */
import { AnnexgateError } from "../errors.js";

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

function escapeChar(c: string): string {
  return /[\p{L}\p{N}]/u.test(c) ? c : `\\${c}`;
}

/** The regular-expression source git-annex builds for a glob (between ^ and $). */
export function globToRegexSource(glob: string, filePath: boolean): string {
  const cs = [...glob];
  let out = "";
  let i = 0;
  const inClass = (): void => {
    while (i < cs.length) {
      const c = cs[i] as string;
      i += 1;
      if (c === "]") {
        out += "]";
        return;
      }
      out += c === "\\" ? "\\\\" : c;
    }
  };
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
      inClass();
    } else if (c === "/" && filePath) out += "[/]+";
    else if (c === "\\" && filePath) out += "[\\\\]+";
    else out += escapeChar(c);
  }
  return out;
}

export type Glob = (s: string) => boolean;

/** Compiles a glob; throws BadGlobError when it makes no regular expression (an unclosed "[", say). */
export function compileGlob(glob: string, opts: GlobOptions = {}): Glob {
  let re: RegExp;
  try {
    re = new RegExp(
      `^(?:${globToRegexSource(glob, opts.filePath === true)})$`,
      opts.caseInsensitive ? "mi" : "m",
    );
  } catch (e) {
    throw new BadGlobError(glob, e);
  }
  return (s) => re.test(s);
}
