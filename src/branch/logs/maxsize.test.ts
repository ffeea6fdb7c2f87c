import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arbRepositoryLog, checkRoundTrip } from "./arbitraries.test.js";
import { clockFromSeconds } from "./clock.js";
import { changeMapLog, type LogEntry } from "./map-log.js";
import { formatMaxSizeLog, parseMaxSizeLog } from "./maxsize.js";

describe("maxsize.log", () => {
  it("round-trip: parse(format(log)) = log", () => {
    const sizes = fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n });
    checkRoundTrip(arbRepositoryLog(sizes), parseMaxSizeLog, formatMaxSizeLog);
  });

  it("writes git-annex's line format, ordered by UUID", () => {
    const log = new Map<string, LogEntry<bigint>>([
      ["b-uuid", { clock: clockFromSeconds(1700000001), value: 1500n }],
      ["a-uuid", { clock: clockFromSeconds(1700000000), value: 10n ** 11n }],
    ]);
    assert.equal(
      formatMaxSizeLog(log),
      "1700000000s a-uuid 100000000000\n1700000001s b-uuid 1500\n",
    );
  });

  it("reads values as Haskell's readish does and skips lines git-annex skips", () => {
    const text = [
      "1700000000s u1 1000",
      "1700000000s u2 12 trailing words",
      "1700000000s u3 1.5", // a fraction is no Integer: skipped
      "1700000000s u4 0x10",
      "1700000000s u5  -7",
      "garbage",
      "1700000000s u6",
      "x u7 5",
      "1700000000s  9", // empty UUID
      "",
    ].join("\n");
    const log = parseMaxSizeLog(text);
    assert.deepEqual(
      [...log].map(([u, e]) => [u, e.value]),
      [
        ["u1", 1000n],
        ["u2", 12n],
        ["u4", 16n],
        ["u5", -7n],
      ],
    );
  });

  it("the newest line wins, the later one on a tie", () => {
    const text =
      "1700000005s u 1\n1700000001s u 2\n1700000009s v 3\n1700000009s v 4\r\n1700000002s u 5\n";
    const log = parseMaxSizeLog(text);
    assert.equal(log.get("u")?.value, 1n);
    assert.equal(log.get("v")?.value, 4n);
  });

  it("a change is clocked after the value it replaces", () => {
    const old = parseMaxSizeLog("1800000000s u 1\n");
    const next = changeMapLog(old, "u", 2n, clockFromSeconds(1700000000));
    assert.equal(formatMaxSizeLog(next), "1800000001s u 2\n");
    const fresh = changeMapLog(old, "w", 3n, clockFromSeconds(1700000000));
    assert.equal(formatMaxSizeLog(fresh), "1800000000s u 1\n1700000000s w 3\n");
  });
});
