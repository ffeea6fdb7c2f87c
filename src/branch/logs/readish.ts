/**
 * How git-annex reads numbers from text: Haskell's `reads` for Int, of
 * which `readish` keeps the first parse and ignores what follows ("2abc"
 * is 2). A decimal with a fraction or exponent is not an Int ("2.5" and
 * "2e3" fail), hexadecimal ("0x1f") and octal ("0o17") are accepted, and
 * so is a leading "-". Values beyond 64 bits wrap, as GHC's Int does.
 */
const INT = /^(-?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|([0-9]+))(.*)$/s;

/** `readish` at Int: the number at the start of `s`, or null. */
export function readishInt(s: string): number | null {
  const m = INT.exec(s);
  if (m === null) return null;
  const [, sign, hex, oct, dec, rest = ""] = m;
  if (dec !== undefined && /^(?:\.[0-9]|[eE][+-]?[0-9])/.test(rest)) return null;
  const digits = hex !== undefined ? `0x${hex}` : oct !== undefined ? `0o${oct}` : (dec ?? "0");
  let n = BigInt.asIntN(64, BigInt(digits));
  if (sign === "-") n = BigInt.asIntN(64, -n);
  return Number(n);
}
