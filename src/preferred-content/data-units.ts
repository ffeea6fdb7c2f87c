/**
 * Sizes as git-annex reads them (Utility/DataUnits.hs `readSize
 * dataUnits`): a number (Haskell's reading of a Double, at the start of
 * the text) then an optional unit, matched case-insensitively by
 * abbreviation or name, plural name, or abbreviation plus "b": "100",
 * "1.5GB", "10kib", "3megabytes", "1Mbit". Storage units are powers of
 * 1000, "i" units powers of 1024, bit units powers of 1000 over 8.
 */

interface Unit {
  readonly size: number;
  readonly abbrev: string;
  readonly name: string;
}

const STORAGE = [
  "QB quettabyte",
  "RB ronnabyte",
  "YB yottabyte",
  "ZB zettabyte",
  "EB exabyte",
  "PB petabyte",
  "TB terabyte",
  "GB gigabyte",
  "MB megabyte",
  "kB kilobyte",
];
const COMMITTEE = [
  "YiB yobibyte",
  "ZiB zebibyte",
  "EiB exbibyte",
  "PiB pebibyte",
  "TiB tebibyte",
  "GiB gibibyte",
  "MiB mebibyte",
  "KiB kibibyte",
];
const BANDWIDTH = [
  "Ybit yottabit",
  "Zbit zettabit",
  "Ebit exabit",
  "Pbit petabit",
  "Tbit terabit",
  "Gbit gigabit",
  "Mbit megabit",
  "kbit kilobit",
];

function units(list: readonly string[], power: (n: number) => number, withByte: boolean): Unit[] {
  const out = list.map((s, i) => {
    const [abbrev = "", name = ""] = s.split(" ");
    return { size: power(list.length - i), abbrev, name };
  });
  if (withByte) out.push({ size: 1, abbrev: "B", name: "byte" });
  return out;
}

const DATA_UNITS: readonly Unit[] = [
  ...units(STORAGE, (n) => 1000 ** n, true),
  ...units(COMMITTEE, (n) => 2 ** (n * 10), true),
  ...units(BANDWIDTH, (n) => 1000 ** n / 8, false),
];

// Haskell's lexer for a Double: decimal with optional fraction and exponent,
// or a hexadecimal/octal integer; a leading "-" is allowed.
const DOUBLE_PREFIX =
  /^(-?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?))/;

/** The Double at the start of `s` (Haskell `reads`), with the rest; null when none. */
export function readDoublePrefix(s: string): [number, string] | null {
  const m = DOUBLE_PREFIX.exec(s.replace(/^\s+/, ""));
  if (m === null) return null;
  const [all, sign, hex, oct, dec] = m;
  const v =
    hex !== undefined
      ? Number.parseInt(hex, 16)
      : oct !== undefined
        ? Number.parseInt(oct, 8)
        : Number(dec);
  return [sign === "-" ? -v : v, s.replace(/^\s+/, "").slice(all.length)];
}

/** Haskell `readMaybe` at Double: the whole text must be one number (surrounding spaces allowed). */
export function readDouble(s: string): number | null {
  const r = readDoublePrefix(s);
  return r !== null && r[1].trim() === "" ? r[0] : null;
}

/** Rounds half to even, as Haskell's `round` does. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function lookupUnit(name: string): number | null {
  if (name === "") return 1;
  const v = name.toLowerCase();
  for (const u of DATA_UNITS) {
    const a = u.abbrev.toLowerCase();
    const n = u.name.toLowerCase();
    if (a === v || n === v || `${n}s` === v || a === `${v}b`) return u.size;
  }
  return null;
}

/** A size in bytes, or null when `text` is not one ("bad size"). */
export function readSize(text: string): number | null {
  const r = readDoublePrefix(text);
  if (r === null) return null;
  const unitName = /^\p{L}*/u.exec(r[1].replace(/^\s+/, ""))?.[0] ?? "";
  const mult = lookupUnit(unitName);
  return mult === null ? null : roundHalfEven(r[0] * mult);
}
