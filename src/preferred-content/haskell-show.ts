/**
 * Haskell's `show` of a String, as git-annex's messages quote text
 * ("near \"foo\""): backslash and double quote escaped, control and
 * non-ASCII characters as named or decimal escapes, "\&" where the next
 * character would otherwise extend an escape.
 */
const NAMES = [
  "NUL",
  "SOH",
  "STX",
  "ETX",
  "EOT",
  "ENQ",
  "ACK",
  "a",
  "b",
  "t",
  "n",
  "v",
  "f",
  "r",
  "SO",
  "SI",
  "DLE",
  "DC1",
  "DC2",
  "DC3",
  "DC4",
  "NAK",
  "SYN",
  "ETB",
  "CAN",
  "EM",
  "SUB",
  "ESC",
  "FS",
  "GS",
  "RS",
  "US",
];

export function showString(s: string): string {
  let out = '"';
  const cs = [...s];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i] as string;
    const code = c.codePointAt(0) ?? 0;
    const next = cs[i + 1];
    if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (code < 32) {
      const name = NAMES[code] as string;
      out += `\\${name}`;
      if (name === "SO" && next === "H") out += "\\&";
    } else if (code === 127) out += "\\DEL";
    else if (code > 127) {
      out += `\\${code}`;
      if (next !== undefined && /[0-9]/.test(next)) out += "\\&";
    } else out += c;
  }
  return `${out}"`;
}
