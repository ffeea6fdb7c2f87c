import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arbClock } from "./arbitraries.test.js";
import { clockFromSeconds, type VectorClock } from "./clock.js";
import { changeMaxSize, formatMaxSizeLog, type MaxSizeEntry, parseMaxSizeLog } from "./maxsize.js";

const arbUuid = fc.stringMatching(/^[0-9a-zA-Z-]{1,36}$/);
const arbEntry: fc.Arbitrary<MaxSizeEntry> = fc
  .record({
    clock: arbClock as fc.Arbitrary<VectorClock>,
    maxSize: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
  })
  .map((r) => ({ ...r }));

describe("maxsize.log", () => {
  it("round-trip: parse(format(log)) = log", () => {
    fc.assert(
      fc.property(fc.dictionary(arbUuid, arbEntry, { maxKeys: 8 }), (obj) => {
        const log = new Map(Object.entries(obj));
        const back = parseMaxSizeLog(formatMaxSizeLog(log));
        assert.deepEqual(new Map([...back].sort()), new Map([...log].sort()));
      }),
    );
  });

  it("writes git-annex's line format, ordered by UUID", () => {
    const log = new Map<string, MaxSizeEntry>([
      ["b-uuid", { clock: clockFromSeconds(1700000001), maxSize: 1500n }],
      ["a-uuid", { clock: clockFromSeconds(1700000000), maxSize: 10n ** 11n }],
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
      [...log].map(([u, e]) => [u, e.maxSize]),
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
    assert.equal(log.get("u")?.maxSize, 1n);
    assert.equal(log.get("v")?.maxSize, 4n);
  });

  it("a change is clocked after the value it replaces", () => {
    const old = parseMaxSizeLog("1800000000s u 1\n");
    const next = changeMaxSize(old, "u", 2n, clockFromSeconds(1700000000));
    assert.equal(formatMaxSizeLog(next), "1800000001s u 2\n");
    const fresh = changeMaxSize(old, "w", 3n, clockFromSeconds(1700000000));
    assert.equal(formatMaxSizeLog(fresh), "1800000000s u 1\n1700000000s w 3\n");
  });
});
