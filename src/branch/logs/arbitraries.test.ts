/**
 * fast-check generators shared by the log tests. Named like a test file
 * because only tests may import it (fast-check is a dev dependency); it
 * holds no tests of its own.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { TimeClock, VectorClock } from "./clock.js";
import type { LogEntry, MapLog } from "./map-log.js";

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

/** UUID-like fields: what a per-repository log's keys look like to its parser. */
export const arbUuidField = fc.stringMatching(/^[0-9a-zA-Z-]{1,36}$/);

/** Per-repository logs of up to 8 entries, with values from `value` and clocks from `clock`. */
export function arbRepositoryLog<V>(
  value: fc.Arbitrary<V>,
  clock: fc.Arbitrary<VectorClock> = arbClock,
): fc.Arbitrary<Map<string, LogEntry<V>>> {
  return fc
    .dictionary(
      arbUuidField,
      // Plain objects, as the parsers build (fc.record's have no prototype).
      fc.tuple(clock, value).map(([c, v]) => ({ clock: c, value: v })),
      { maxKeys: 8 },
    )
    .map((obj) => new Map(Object.entries(obj)));
}

/** Checks parse(format(log)) = log over `logs` (entry order aside). */
export function checkRoundTrip<V>(
  logs: fc.Arbitrary<Map<string, LogEntry<V>>>,
  parse: (text: string) => MapLog<V>,
  format: (log: MapLog<V>) => string,
): void {
  fc.assert(
    fc.property(logs, (log) => {
      const back = parse(format(log));
      assert.deepEqual(new Map([...back].sort()), new Map([...log].sort()));
    }),
  );
}
