/**
 * The number arithmetic git-annex's size code gets from GHC, reproduced so
 * that annexgate reads and prints sizes to the same byte: `reads` of a
 * Double (Text.Read.Lex), `round` (ties to even), `fromInteger` to Double
 * (truncating for big integers), and `show` of a Double.
 */

const TWO_53 = 2n ** 53n;

/** Haskell's isSpace: ASCII \t..\r, space, and Unicode space separators. */
export function isHaskellSpace(c: string): boolean {
  return /^[\t\n\v\f\r\p{Zs}]$/u.test(c);
}

function skipSpace(s: string, i: number): number {
  let j = i;
  while (j < s.length && isHaskellSpace(s[j] ?? "")) j++;
  return j;
}

/** A value read from the front of a string, and where its text ends. */
interface Read<T = number> {
  readonly value: T;
  readonly end: number;
}

/** Reads one token of a number at `i`, or null. */
type Token<T> = (s: string, i: number) => Read<T> | null;

const HEX_OCT = /^0([xXoO])([0-9a-fA-F]+)/;
const DECIMAL = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
const IDENT = /^[\p{L}_][\p{L}\p{N}_']*/u;
const SYMBOL = /^[!@#$%&*+./<=>?\\^|:~-]+/;

/** One number token (Text.Read.Lex `lexNumber`, or the identifiers NaN/Infinity). */
function numberToken(s: string, i: number): Read | null {
  const rest = s.slice(i);
  const ho = HEX_OCT.exec(rest);
  if (ho !== null) {
    const octal = ho[1] === "o" || ho[1] === "O";
    const digits = octal ? /^[0-7]+/.exec(ho[2] ?? "")?.[0] : ho[2];
    if (digits !== undefined && digits !== "") {
      // A literal converts exactly, then rounds to nearest (fromRational).
      const big = BigInt(`0${octal ? "o" : "x"}${digits}`);
      return { value: Number(big), end: i + 2 + digits.length };
    }
  }
  const dec = DECIMAL.exec(rest);
  if (dec !== null) return { value: Number(dec[0]), end: i + dec[0].length };
  const id = IDENT.exec(rest);
  if (id !== null) {
    if (id[0] === "NaN") return { value: Number.NaN, end: i + 3 };
    if (id[0] === "Infinity") return { value: Number.POSITIVE_INFINITY, end: i + 8 };
  }
  return null;
}

/** `readNumber`: an optional "-" symbol token, then a number token. */
function signed<T>(s: string, from: number, token: Token<T>, negate: (v: T) => T): Read<T> | null {
  const i = skipSpace(s, from);
  const sym = SYMBOL.exec(s.slice(i));
  if (sym !== null) {
    if (sym[0] !== "-") return null;
    const n = token(s, skipSpace(s, i + 1));
    return n === null ? null : { value: negate(n.value), end: n.end };
  }
  return token(s, i);
}

/** `parens`: the signed number, or the signed number inside any depth of parentheses. */
function parenthesised<T>(
  s: string,
  from: number,
  depth: number,
  token: Token<T>,
  negate: (v: T) => T,
): Read<T> | null {
  const i = skipSpace(s, from);
  if (s[i] === "(") {
    if (depth > 1000) return null;
    const inner = parenthesised(s, i + 1, depth + 1, token, negate);
    if (inner === null) return null;
    const j = skipSpace(s, inner.end);
    return s[j] === ")" ? { value: inner.value, end: j + 1 } : null;
  }
  return signed(s, i, token, negate);
}

/** What `reads` yields first: the value at the front of `s` and the rest of `s`, or null. */
function readFront<T>(
  s: string,
  token: Token<T>,
  negate: (v: T) => T,
): { value: T; rest: string } | null {
  const r = parenthesised(s, 0, 0, token, negate);
  return r === null ? null : { value: r.value, rest: s.slice(r.end) };
}

/** What `readMaybe` gives from what `reads` yields: the value when only white space follows it. */
function whole<T>(r: { value: T; rest: string } | null): T | null {
  return r !== null && [...r.rest].every(isHaskellSpace) ? r.value : null;
}

/**
 * What `reads s :: [(Double, String)]` yields first: the Double at the
 * front of `s` (after white space) and the rest of `s`, or null.
 *
 * @example
 * readDouble(" 1.5e3kb") // { value: 1500, rest: "kb" }
 */
export function readDouble(s: string): { value: number; rest: string } | null {
  return readFront(s, numberToken, (v) => -v);
}

/**
 * What `readMaybe s :: Maybe Double` gives: the Double that is the whole
 * of `s` (white space around it allowed), or null. git-annex compares
 * metadata values this way (`metadata=field<value`).
 *
 * @example
 * readWholeDouble(" 2.5 ") // 2.5
 * readWholeDouble("2.5x")  // null
 */
export function readWholeDouble(s: string): number | null {
  return whole(readDouble(s));
}

const INTEGER_TOKEN =
  /^(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|([0-9]+)(\.[0-9]+)?([eE][+-]?[0-9]+)?)/;

/** An integer token, or null for a token that is a fraction (GHC's `numberToInteger`). */
function integerToken(s: string, i: number): Read<bigint> | null {
  const m = INTEGER_TOKEN.exec(s.slice(i));
  if (m === null) return null;
  if (m[1] !== undefined) return { value: BigInt(`0x${m[1]}`), end: i + m[0].length };
  if (m[2] !== undefined) return { value: BigInt(`0o${m[2]}`), end: i + m[0].length };
  // "5.0" and "5e3" are one token each, and not integers
  if (m[4] !== undefined || m[5] !== undefined) return null;
  return { value: BigInt(m[3] ?? ""), end: i + m[0].length };
}

/**
 * What `reads s :: [(Integer, String)]` yields first (git-annex's
 * `readish`): the integer at the front of `s` and the rest, or null.
 * "12 junk" reads as 12; "1.5" and "1e3" do not read.
 *
 * @example
 * readInteger(" 1500\n") // { value: 1500n, rest: "\n" }
 */
export function readInteger(s: string): { value: bigint; rest: string } | null {
  return readFront(s, integerToken, (v) => -v);
}

/**
 * What `readMaybe s :: Maybe Integer` gives, which is how git-annex reads
 * offsets, data lengths and timestamps: the integer that is the whole of
 * `s` (white space and balanced parentheses around it allowed), or null.
 *
 * @example
 * readWholeInteger(" (0x1F) ") // 31n
 * readWholeInteger("7a")       // null
 */
export function readWholeInteger(s: string): bigint | null {
  return whole(readInteger(s));
}

/**
 * git-annex's `readish` at Int: the integer at the front of `s` (what
 * follows is ignored), wrapped to 64 bits as GHC's Int is, or null.
 *
 * @example
 * readishInt("2abc") // 2
 * readishInt("2.5")  // null
 */
export function readishInt(s: string): number | null {
  const r = readInteger(s);
  return r === null ? null : Number(BigInt.asIntN(64, r.value));
}

/**
 * GHC's `round :: Double -> Integer`: halves go to the even neighbour.
 * Infinities and NaN come out as GHC's decodeFloat makes them (±2^1024,
 * and -1.5·2^1024 for NaN), which is what git-annex records for them.
 */
export function roundHalfEven(x: number): bigint {
  if (Number.isNaN(x)) return -(2n ** 1024n + 2n ** 1023n);
  if (x === Number.POSITIVE_INFINITY) return 2n ** 1024n;
  if (x === Number.NEGATIVE_INFINITY) return -(2n ** 1024n);
  if (Number.isInteger(x)) return BigInt(x);
  const f = Math.floor(x);
  const d = x - f; // exact: |x| < 2^52 here
  if (d > 0.5) return BigInt(f) + 1n;
  if (d < 0.5) return BigInt(f);
  return f % 2 === 0 ? BigInt(f) : BigInt(f) + 1n;
}

/** GHC's `fromInteger :: Integer -> Double`, which truncates integers above 2^53. */
export function integerToDouble(n: bigint): number {
  const neg = n < 0n;
  const a = neg ? -n : n;
  if (a < TWO_53) return Number(n);
  const drop = a.toString(2).length - 53;
  const v = Number(a >> BigInt(drop)) * 2 ** drop;
  return neg ? -v : v;
}

/** The shortest decimal digits of a positive finite x, and e with x = 0.digits × 10^e. */
function floatToDigits(x: number): { digits: string; e: number } {
  const [mant = "0", exp = "0"] = x.toExponential().split("e");
  return { digits: mant.replace(".", ""), e: Number(exp) + 1 };
}

/**
 * GHC's `show :: Double -> String`: "1.0", "0.1", "1234567.0", "1.0e7",
 * "5.0e-2", "Infinity", "NaN".
 */
export function showDouble(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x < 0 || Object.is(x, -0)) return `-${showDouble(-x)}`;
  if (x === Number.POSITIVE_INFINITY) return "Infinity";
  if (x === 0) return "0.0";
  const { digits, e } = floatToDigits(x);
  if (e < 0 || e > 7) {
    const [d = "0", ...ds] = digits;
    return `${d}.${ds.length === 0 ? "0" : ds.join("")}e${e - 1}`;
  }
  if (e === 0) return `0.${digits}`;
  const int = digits.slice(0, e).padEnd(e, "0");
  const frac = digits.slice(e);
  return `${int}.${frac === "" ? "0" : frac}`;
}

/**
 * Utility/HumanNumber.hs `showImprecise`: a non-negative number with at
 * most `precision` decimals, trailing zeros dropped.
 */
export function showImprecise(precision: number, n: number): string {
  const int = Math.trunc(n);
  const frac = n - int;
  const scale = 10n ** BigInt(precision);
  let remainder = roundHalfEven(frac * Number(scale));
  let whole = BigInt(int);
  if (remainder === scale) {
    whole += 1n;
    remainder = 0n;
  }
  if (precision === 0 || remainder === 0n) return roundHalfEven(n).toString();
  const padded = remainder.toString().padStart(precision, "0").replace(/0+$/, "");
  return `${whole}.${padded}`;
}
