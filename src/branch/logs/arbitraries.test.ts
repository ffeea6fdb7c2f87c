/**
 * fast-check generators shared by the log tests. Named like a test file
 * because only tests may import it (fast-check is a dev dependency); it
 * holds no tests of its own.
 */
import fc from "fast-check";
import type { TimeClock } from "./clock.js";

/**
 * Clocks git-annex can write and read back: picosecond resolution, and
 * not in (-1, 0), which git-annex's own parser reads as positive.
 */
export const arbClock: fc.Arbitrary<TimeClock> = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 12 }))
  .filter(([units, scale]) => units >= 0n || -units >= 10n ** BigInt(scale))
  // Only normal forms (no trailing zero digits), as parsing gives back.
  .filter(([units, scale]) => scale === 0 || units % 10n !== 0n)
  .map(([units, scale]): TimeClock => ({ kind: "time", units, scale }));
