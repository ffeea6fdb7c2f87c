import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BadDurationError, formatDuration, parseDuration, parseDurationMs } from "./index.js";

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

  it("reads back what it shows, as git-annex's round-trip property says", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), (secs) => {
        const shown = formatDuration(secs);
        const back = parseDuration(shown);
        // Shown with its two largest units, so what is read back can only
        // be less, by under one of the second unit's size.
        return back <= secs && secs - back < 86_400n * 365n;
      }),
    );
    assert.equal(formatDuration(0n), "0s");
    assert.equal(formatDuration(5_400n), "1h30m");
    assert.equal(formatDuration(86_400n + 5n * 60n), "1d"); // stops at the zero hours
    assert.equal(formatDuration(366n * 86_400n + 3n), "1y1d");
  });
});
