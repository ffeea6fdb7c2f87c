/**
 * Reading sizes the way git-annex's `readSize` does (Utility/DataUnits.hs),
 * e.g. for `maxsize REPO SIZE` and `--largerthan`.
 */
import { BadSizeError } from "./errors.js";
import { integerToDouble, isHaskellSpace, readDouble, roundHalfEven } from "./haskell-number.js";
import { DATA_UNITS, type Unit } from "./units.js";

/** Haskell's per-character toLower (simple case mapping: one character in, one out). */
function lowerChar(c: string): string {
  if (c === "\u0130") return "i";
  const l = c.toLowerCase();
  return [...l].length === 1 ? l : c;
}

function lower(s: string): string {
  return [...s].map(lowerChar).join("");
}

function lookupUnit(units: readonly Unit[], word: string): bigint | null {
  if (word === "") return 1n;
  const v = lower(word);
  for (const u of units) {
    const a = lower(u.abbrev);
    const n = lower(u.name);
    if (a === v || n === v || `${n}s` === v || a === `${v}b`) return u.bytes;
  }
  return null;
}

/**
 * Parses a size such as "100gb", "1.5 TiB", "10 megabytes", "5kbit" or
 * "1e3" into bytes, exactly as git-annex does: the number is whatever
 * Haskell reads as a Double (decimals, exponents, hex and octal, even
 * parentheses), the unit is the run of letters after optional space
 * (anything after it is ignored; no letters means bytes), matched without
 * regard to case against each unit's abbreviation, name or plural name,
 * or with "b" added ("k" is "kB"). SI abbreviations are powers of ten and
 * IEC ones powers of two ("1 kb" is 1000, "1 KiB" 1024), and "bit" units
 * count bits. The result is rounded to whole bytes, halves to even, in
 * double precision as git-annex computes it.
 *
 * @throws BadSizeError when there is no number, or the word is no unit.
 * @example
 * parseSize("1.5 TiB") // 1649267441664n
 * parseSize("100gb")   // 100000000000n
 */
export function parseSize(text: string, units: readonly Unit[] = DATA_UNITS): bigint {
  const r = readDouble(text);
  if (r === null) throw new BadSizeError(text);
  let i = 0;
  const rest = [...r.rest];
  while (i < rest.length && isHaskellSpace(rest[i] ?? "")) i++;
  let word = "";
  while (i < rest.length && /^\p{L}$/u.test(rest[i] ?? "")) word += rest[i++];
  const multiplier = lookupUnit(units, word);
  if (multiplier === null) throw new BadSizeError(text);
  return roundHalfEven(r.value * integerToDouble(multiplier));
}
