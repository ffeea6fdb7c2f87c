/**
 * The command line of git-annex-shell as git-annex reads it
 * (CmdLine/GitAnnexShell.hs): words with shell quoting, and the
 * parameters, fields and rest that `--` separates.
 */

/**
 * Splits a command line the way git-annex's shellUnEscape does: words
 * separated by single spaces, with '…' and "…" quoting (no escapes inside).
 *
 * @example
 * shellUnEscape("git-annex-shell 'p2pstdio' '/srv/a b'") // ["git-annex-shell", "p2pstdio", "/srv/a b"]
 */
export function shellUnEscape(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    let word = "";
    let quote: string | null = null;
    for (; i < s.length; i++) {
      const c = s[i] as string;
      if (quote !== null) {
        if (c === quote) quote = null;
        else word += c;
      } else if (c === " ") {
        i++;
        break;
      } else if (c === "'" || c === '"') {
        quote = c;
      } else {
        word += c;
      }
    }
    words.push(word);
  }
  return words;
}

/** Quotes a word for a POSIX shell (and for git-shell's sq_dequote). */
export function shellEscape(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Parameters, then fields between two `--`, then anything after
 * (CmdLine/GitAnnexShell.hs partitionParams).
 */
export function partitionParams(ps: readonly string[]): {
  params: string[];
  fields: Map<string, string>;
} {
  const segments: string[][] = [[]];
  for (const p of ps) {
    if (p === "--") segments.push([]);
    else segments[segments.length - 1]?.push(p);
  }
  const fields = new Map<string, string>();
  for (const f of segments[1] ?? []) {
    const eq = f.indexOf("=");
    const name = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? "" : f.slice(eq + 1);
    // Only the fields git-annex-shell knows, with sane values.
    if (name === "remoteuuid" && /^[A-Za-z0-9-]*$/.test(value)) fields.set(name, value);
    if (name === "autoinit" && value === "1") fields.set(name, value);
  }
  return { params: segments[0] ?? [], fields };
}
