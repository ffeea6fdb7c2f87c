/**
 * Showing sizes the way git-annex does (Utility/DataUnits.hs `roughSize`,
 * `preciseSize`): in the largest unit the size reaches, by name
 * ("1.5 gigabytes") or abbreviated ("1.5 GB").
 */
import { integerToDouble, showDouble, showImprecise } from "./haskell-number.js";
import { STORAGE_UNITS, type Unit } from "./units.js";

/** How to show a size. */
export interface SizeFormat {
  /** Units to choose from (default: SI storage units, as `git annex info` uses). */
  readonly units?: readonly Unit[];
  /** Abbreviations ("GB") instead of names ("gigabytes"). Default false. */
  readonly short?: boolean;
}

function largestFirst(units: readonly Unit[]): Unit[] {
  // git-annex sorts its Unit records (size first) descending
  return [...units].sort((a, b) =>
    a.bytes !== b.bytes
      ? a.bytes > b.bytes
        ? -1
        : 1
      : a.abbrev !== b.abbrev
        ? a.abbrev > b.abbrev
          ? -1
          : 1
        : a.name > b.name
          ? -1
          : a.name < b.name
            ? 1
            : 0,
  );
}

function showSize(bytes: bigint, opts: SizeFormat, show: (v: number) => string): string {
  if (bytes < 0n) return `-${showSize(-bytes, opts, show)}`;
  const units = largestFirst(opts.units ?? STORAGE_UNITS);
  const unit = units.find((u) => bytes >= u.bytes) ?? units[units.length - 1];
  if (unit === undefined) return show(integerToDouble(bytes));
  const s = show(integerToDouble(bytes) / integerToDouble(unit.bytes));
  const word = opts.short === true ? unit.abbrev : s === "1" ? unit.name : `${unit.name}s`;
  return `${s} ${word}`;
}

/**
 * A size for people, to `precision` decimals (default 2), as git-annex's
 * `roughSize` (and `roughSize'`) shows it.
 *
 * @example
 * roughSize(1_500_000_000n)                 // "1.5 gigabytes"
 * roughSize(3006n, { short: true })         // "3.01 kB"
 * roughSize(1500n, { short: true }, 0)      // "2 kB"
 */
export function roughSize(bytes: bigint, opts: SizeFormat = {}, precision = 2): string {
  return showSize(bytes, opts, (v) => showImprecise(precision, v));
}

/**
 * A size in its unit with every digit of the Double, as git-annex's
 * `preciseSize` shows it (`git annex maxsize REPO`).
 *
 * @example
 * preciseSize(1500n, { short: true }) // "1.5 kB"
 * preciseSize(1000n, { short: true }) // "1.0 kB"
 */
export function preciseSize(bytes: bigint, opts: SizeFormat = {}): string {
  return showSize(bytes, opts, showDouble);
}

/**
 * A percentage as git-annex shows one (Utility/Percentage.hs), of
 * `have` out of `full`, to `precision` decimals: "0%", "37.5%".
 */
export function showPercentage(full: bigint, have: bigint, precision = 0): string {
  const v = full === 0n ? 0 : ratioToDouble(have * 100n, full);
  return `${showImprecise(precision, v)}%`;
}

/** A ratio of integers to the nearest Double (as fromRational does), for display. */
function ratioToDouble(num: bigint, den: bigint): number {
  // exact enough for display: scale so both fit comfortably in a double
  const q = num / den;
  const r = num % den;
  const scale = 10n ** 17n;
  return Number(q) + Number((r * scale) / den) / Number(scale);
}
