/**
 * git-annex's vector clocks (Types/VectorClock.hs, Annex/VectorClock.hs):
 * a POSIX time written the way Haskell shows one, e.g. "1700000000s" or
 * "1431286201.113452s". git-annex itself writes whole seconds; parsing
 * accepts a fraction and a missing "s" (Utility/TimeStamp.hs).
 */

/** A time in seconds, exactly `units / 10^scale` (normalised: no trailing zero digits). */
export interface TimeClock {
  readonly kind: "time";
  readonly units: bigint;
  /** Number of decimal places, 0..12 (git-annex keeps picoseconds). */
  readonly scale: number;
}

/** Very old log lines have no time at all; such a clock is older than any time. */
export interface UnknownClock {
  readonly kind: "unknown";
}

export type VectorClock = TimeClock | UnknownClock;

export const UNKNOWN_CLOCK: UnknownClock = { kind: "unknown" };

const MAX_SCALE = 12;
const CLOCK = /^([+-]?)(\d+)(?:\.(\d+))?s?$/;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function normalise(units: bigint, scale: number): TimeClock {
  let u = units;
  let s = scale;
  while (s > 0 && u % 10n === 0n) {
    u /= 10n;
    s -= 1;
  }
  return { kind: "time", units: u, scale: s };
}

/** A clock of whole seconds. */
export function clockFromSeconds(seconds: bigint | number): TimeClock {
  return { kind: "time", units: BigInt(seconds), scale: 0 };
}

/**
 * Parses a clock ("1700000000s", "12.5", "-3s"); null when it is not one.
 * Like git-annex, digits past picoseconds are floored away, and the
 * fraction adds to a non-negative integer part (so "-0.5" is +0.5, a
 * quirk kept for fidelity).
 */
export function parseClock(text: string): TimeClock | null {
  const m = CLOCK.exec(text);
  if (m === null) return null;
  const int = BigInt(`${m[1] === "-" ? "-" : ""}${m[2] ?? "0"}`);
  const digits = m[3] ?? "";
  const frac = digits === "" ? 0n : BigInt(digits);
  const scale = digits.length;
  let units = int * pow10(scale) + (int < 0n ? -frac : frac);
  let s = scale;
  if (s > MAX_SCALE) {
    units = floorDiv(units, pow10(s - MAX_SCALE));
    s = MAX_SCALE;
  }
  return normalise(units, s);
}

/** Writes a clock the way git-annex does ("0" for an unknown one). */
export function formatClock(c: VectorClock): string {
  if (c.kind === "unknown") return "0";
  const neg = c.units < 0n;
  const abs = neg ? -c.units : c.units;
  const div = pow10(c.scale);
  const int = abs / div;
  let frac = "";
  if (c.scale > 0) {
    frac = (abs % div).toString().padStart(c.scale, "0").replace(/0+$/, "");
  }
  return `${neg ? "-" : ""}${int}${frac === "" ? "" : `.${frac}`}s`;
}

/** Orders clocks: negative when `a` is older than `b`. */
export function compareClocks(a: VectorClock, b: VectorClock): number {
  if (a.kind === "unknown") return b.kind === "unknown" ? 0 : -1;
  if (b.kind === "unknown") return 1;
  const x = a.units * pow10(b.scale);
  const y = b.units * pow10(a.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The clock to log a new value with: `candidate`, unless an earlier value
 * has the same or a later clock (clock skew), in which case one second
 * after the latest earlier clock (Annex/VectorClock.hs `advanceVectorClock`).
 */
export function advanceClock(candidate: TimeClock, previous: readonly VectorClock[]): TimeClock {
  let latest: VectorClock | null = null;
  for (const p of previous) if (latest === null || compareClocks(p, latest) > 0) latest = p;
  if (latest === null || latest.kind === "unknown" || compareClocks(latest, candidate) < 0) {
    return candidate;
  }
  return normalise(latest.units + pow10(latest.scale), latest.scale);
}

/**
 * The candidate clock for a change made now: whole seconds, or the value
 * of GIT_ANNEX_VECTOR_CLOCK when that is set (as git-annex honours it).
 */
export function currentClock(env: NodeJS.ProcessEnv = process.env): TimeClock {
  const fixed = env.GIT_ANNEX_VECTOR_CLOCK;
  if (fixed !== undefined) {
    const c = parseClock(fixed);
    if (c !== null) return c;
  }
  return clockFromSeconds(Math.floor(Date.now() / 1000));
}
