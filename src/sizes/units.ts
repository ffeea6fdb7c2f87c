/**
 * git-annex's tables of data units (Utility/DataUnits.hs): storage units
 * are powers of ten, "committee" (IEC) units powers of two, bandwidth units
 * bits counted in powers of ten.
 */

/** One unit: how many bytes it is, its abbreviation and its singular name. */
export interface Unit {
  readonly bytes: bigint;
  readonly abbrev: string;
  readonly name: string;
}

function table(base: bigint, divisor: bigint, rows: readonly [string, string][]): Unit[] {
  // rows are largest first; the last row is base^1
  const n = rows.length;
  return rows.map(([abbrev, name], i) => ({
    bytes: base ** BigInt(n - i) / divisor,
    abbrev,
    name,
  }));
}

const BYTE: Unit = { bytes: 1n, abbrev: "B", name: "byte" };

/** SI units of bytes, largest first ("kB" is 1000 bytes). */
export const STORAGE_UNITS: readonly Unit[] = [
  ...table(1000n, 1n, [
    ["QB", "quettabyte"],
    ["RB", "ronnabyte"],
    ["YB", "yottabyte"],
    ["ZB", "zettabyte"],
    ["EB", "exabyte"],
    ["PB", "petabyte"],
    ["TB", "terabyte"],
    ["GB", "gigabyte"],
    ["MB", "megabyte"],
    ["kB", "kilobyte"],
  ]),
  BYTE,
];

/** IEC units of bytes, largest first ("KiB" is 1024 bytes). */
export const COMMITTEE_UNITS: readonly Unit[] = [
  ...table(1024n, 1n, [
    ["YiB", "yobibyte"],
    ["ZiB", "zebibyte"],
    ["EiB", "exbibyte"],
    ["PiB", "pebibyte"],
    ["TiB", "tebibyte"],
    ["GiB", "gibibyte"],
    ["MiB", "mebibyte"],
    ["KiB", "kibibyte"],
  ]),
  BYTE,
];

/** Bits in powers of ten, as bytes ("kbit" is 125 bytes); largest first. */
export const BANDWIDTH_UNITS: readonly Unit[] = table(1000n, 8n, [
  ["Ybit", "yottabit"],
  ["Zbit", "zettabit"],
  ["Ebit", "exabit"],
  ["Pbit", "petabit"],
  ["Tbit", "terabit"],
  ["Gbit", "gigabit"],
  ["Mbit", "megabit"],
  ["kbit", "kilobit"],
]);

/** Every unit a size may be written in, in the order git-annex looks them up. */
export const DATA_UNITS: readonly Unit[] = [
  ...STORAGE_UNITS,
  ...COMMITTEE_UNITS,
  ...BANDWIDTH_UNITS,
];
