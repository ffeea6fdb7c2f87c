import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BadDurationError, parseDuration, parseDurationMs } from "./index.js";

/*
 * What git-annex's parseDuration (Utility/HumanTime.hs) makes of each text,
 * worked out from its definition: a whole number read by `reads`, then a
 * unit letter or the end; null where it answers "failed to parse duration".
 */
const CASES: readonly [string, bigint | null][] = [
  ["7d", 7n * 86_400n],
  ["1h30m", 5_400n],
  ["2y", 2n * 365n * 86_400n],
  ["90", 90n],
  ["0", 0n],
  ["5h3", 5n * 3_600n + 3n],
  ["3s5h5", 3n + 5n * 3_600n + 5n],
  ["1m1m", 120n],
  ["007s", 7n],
  ["99999999999999999999d", 99_999_999_999_999_999_999n * 86_400n],
  ["", null],
  ["d", null],
  ["5", 5n],
  ["5 h", null],
  [" 5h", null],
  ["5h ", null],
  ["-5h", null],
  ["+5h", null],
  ["1.5h", null],
  ["5w", null],
  ["5H", null],
  ["5hh", null],
  ["0x10", null],
  ["1e3", null],
  ["５h", null],
];

describe("parseDuration", () => {
  for (const [text, want] of CASES) {
    it(`${JSON.stringify(text)} → ${want === null ? "refused" : want}`, () => {
      if (want === null) {
        assert.throws(
          () => parseDuration(text),
          (e: unknown) => e instanceof BadDurationError && e.code === "AG_BAD_DURATION",
        );
      } else {
        assert.equal(parseDuration(text), want);
      }
    });
  }

  it("gives milliseconds, capped where a Number stops being exact", () => {
    assert.equal(parseDurationMs("1h30m"), 5_400_000);
    assert.equal(parseDurationMs("999999999999y"), Number.MAX_SAFE_INTEGER);
  });

  it("quotes a refused input in its message, cut short", () => {
    const long = "x".repeat(10_000);
    assert.throws(
      () => parseDuration(long),
      (e: Error) => e.message.length < 250,
    );
  });

  it("reads any run of numbers with unit letters as their sum, a bare number last", () => {
    const seconds: Record<string, bigint> = {
      y: 365n * 86_400n,
      d: 86_400n,
      h: 3_600n,
      m: 60n,
      s: 1n,
    };
    const part = fc.tuple(
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.constantFrom("y", "d", "h", "m", "s"),
    );
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat()),
        (parts, bare) => {
          const text =
            parts.map(([n, u]) => `${n}${u}`).join("") + (bare === null ? "" : String(bare));
          const sum = parts.reduce((t, [n, u]) => t + n * (seconds[u] ?? 0n), BigInt(bare ?? 0));
          assert.equal(parseDuration(text), sum, text);
        },
      ),
    );
  });
});
