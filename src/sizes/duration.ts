/**
 * Durations written the way git-annex reads them (Utility/HumanTime.hs,
 * e.g. `annex.expireunused`, `git annex unused --olderthan`-style values):
 * runs of a whole number and a unit letter, `y` (365 days), `d`, `h`, `m`
 * or `s`, added up, and optionally a last bare number of seconds. "7d",
 * "1h30m", "2y", "90" (seconds). No spaces, signs, fractions or other
 * letters: git-annex refuses those too.
 */
import { AnnexgateError } from "../errors.js";

/** Text that is not a duration git-annex would accept; `data.input` is the text. */
export class BadDurationError extends AnnexgateError {
  constructor(input: string) {
    super(
      "AG_BAD_DURATION",
      `failed to parse duration ${JSON.stringify(input.slice(0, 120))} (expected eg "5m" or "1h5m")`,
      { input },
    );
  }
}

const SECONDS_PER: Readonly<Record<string, bigint>> = {
  y: 365n * 86_400n,
  d: 86_400n,
  h: 3_600n,
  m: 60n,
  s: 1n,
};

/** One number with an optional unit letter; the whole text must be a run of these. */
const PART = /([0-9]+)([ydhms]?)/gy;

/**
 * The duration in whole seconds (a bigint: git-annex's are unbounded).
 *
 * @throws BadDurationError for empty text or anything git-annex refuses.
 * @example
 * parseDuration("1h30m") // 5400n
 */
export function parseDuration(text: string): bigint {
  if (text === "") throw new BadDurationError(text);
  let total = 0n;
  let at = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    // A bare number is seconds, but only at the very end: "5h3" is 5h 3s,
    // while in "3 5h" git-annex stops at the space and refuses.
    if (m === null || (m[2] === "" && PART.lastIndex !== text.length)) {
      throw new BadDurationError(text);
    }
    total += BigInt(m[1] as string) * (SECONDS_PER[m[2] as string] ?? 1n);
    at = PART.lastIndex;
  }
  return total;
}

/** The duration in milliseconds, capped at Number.MAX_SAFE_INTEGER (about 285,000 years). */
export function parseDurationMs(text: string): number {
  const ms = parseDuration(text) * 1000n;
  return ms > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ms);
}
