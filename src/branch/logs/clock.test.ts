import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arbClock } from "./arbitraries.test.js";
import {
  advanceClock,
  clockFromSeconds,
  compareClocks,
  currentClock,
  formatClock,
  parseClock,
  UNKNOWN_CLOCK,
} from "./clock.js";

describe("vector clocks", () => {
  it("format like Haskell shows a POSIXTime", () => {
    assert.equal(formatClock(clockFromSeconds(1700000000)), "1700000000s");
    assert.equal(
      formatClock(parseClock("1431286201.113452") ?? UNKNOWN_CLOCK),
      "1431286201.113452s",
    );
    assert.equal(formatClock(parseClock("12.500s") ?? UNKNOWN_CLOCK), "12.5s");
    assert.equal(formatClock(parseClock("-3.25s") ?? UNKNOWN_CLOCK), "-3.25s");
    assert.equal(formatClock(parseClock("1.000000000000999") ?? UNKNOWN_CLOCK), "1s");
    assert.equal(formatClock(UNKNOWN_CLOCK), "0");
  });

  it("parse what git-annex parses, and nothing else", () => {
    for (const bad of ["", "s", "1.s", ".5", "1.5ss", "1 ", "a1", "1e5", "0x10"]) {
      assert.equal(parseClock(bad), null, bad);
    }
    assert.deepEqual(parseClock("+7"), clockFromSeconds(7));
    // git-annex adds the fraction to a non-negative integer part
    assert.equal(formatClock(parseClock("-0.5") ?? UNKNOWN_CLOCK), "0.5s");
  });

  it("round-trip: parse(format(c)) = c", () => {
    fc.assert(fc.property(arbClock, (c) => assert.deepEqual(parseClock(formatClock(c)), c)));
  });

  it("compare numerically, unknown oldest", () => {
    const c = (s: string) => parseClock(s) ?? UNKNOWN_CLOCK;
    assert.ok(compareClocks(c("1.5"), c("2")) < 0);
    assert.ok(compareClocks(c("2.0"), c("2")) === 0);
    assert.ok(compareClocks(c("10"), c("9.999999")) > 0);
    assert.ok(compareClocks(UNKNOWN_CLOCK, c("-100")) < 0);
    fc.assert(
      fc.property(arbClock, arbClock, (a, b) => {
        // Opposite signs sum to 0 (comparing the sign with the other's
        // negation fails on equal clocks: strict equality tells 0 from -0).
        assert.equal(Math.sign(compareClocks(a, b)) + Math.sign(compareClocks(b, a)), 0);
      }),
    );
  });

  it("advance past an equal or newer earlier clock by one second", () => {
    const now = clockFromSeconds(100);
    assert.deepEqual(advanceClock(now, []), now);
    assert.deepEqual(advanceClock(now, [clockFromSeconds(99)]), now);
    assert.deepEqual(advanceClock(now, [clockFromSeconds(100)]), clockFromSeconds(101));
    assert.deepEqual(
      advanceClock(now, [clockFromSeconds(5), parseClock("150.5") ?? UNKNOWN_CLOCK]),
      parseClock("151.5"),
    );
    assert.deepEqual(advanceClock(now, [UNKNOWN_CLOCK]), now);
  });

  it("honour GIT_ANNEX_VECTOR_CLOCK", () => {
    assert.deepEqual(currentClock({ GIT_ANNEX_VECTOR_CLOCK: "42" }), clockFromSeconds(42));
    const t = currentClock({});
    assert.equal(t.scale, 0);
    assert.ok(Math.abs(Number(t.units) - Date.now() / 1000) < 5);
  });
});
