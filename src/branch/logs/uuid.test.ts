import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arbClock } from "./arbitraries.test.js";
import { clockFromSeconds, UNKNOWN_CLOCK, type VectorClock } from "./clock.js";
import { describeUuid, formatUuidLog, parseUuidLog, type UuidLogEntry } from "./uuid.js";

const arbUuid = fc.stringMatching(/^[0-9a-zA-Z-]{1,36}$/);
const arbDescription = fc
  .string({ unit: "grapheme", maxLength: 30 })
  .map((s) => s.replace(/[\r\n]/g, " "))
  .filter((s) => !s.includes("timestamp="));
const arbEntry: fc.Arbitrary<UuidLogEntry> = fc
  .record({
    clock: fc.oneof(arbClock as fc.Arbitrary<VectorClock>, fc.constant(UNKNOWN_CLOCK)),
    description: arbDescription,
  })
  .map((r) => ({ ...r }));

describe("uuid.log", () => {
  it("round-trip: parse(format(log)) = log", () => {
    fc.assert(
      fc.property(fc.dictionary(arbUuid, arbEntry, { maxKeys: 8 }), (obj) => {
        const log = new Map(Object.entries(obj));
        const back = parseUuidLog(formatUuidLog(log));
        assert.deepEqual(new Map([...back].sort()), new Map([...log].sort()));
      }),
    );
  });

  it("reads the forms git-annex writes and wrote", () => {
    const log = parseUuidLog(
      "aaaa my  laptop timestamp=1700000000s\n" +
        "bbbb\n" +
        "cccc old style\n" +
        "dddd timestamp=1700000001.5s\n" +
        "eeee a timestamp=5 b timestamp=6\n" +
        "ffff timestamp=notaclock\n",
    );
    assert.deepEqual(Object.fromEntries(log), {
      aaaa: { clock: clockFromSeconds(1700000000), description: "my  laptop" },
      bbbb: { clock: UNKNOWN_CLOCK, description: "" },
      cccc: { clock: UNKNOWN_CLOCK, description: "old style" },
      dddd: { clock: { kind: "time", units: 17000000015n, scale: 1 }, description: "" },
      eeee: { clock: clockFromSeconds(6), description: "a timestamp=5 b" },
      ffff: { clock: UNKNOWN_CLOCK, description: "timestamp=notaclock" },
    });
  });

  it("keeps the newest line per uuid; the later line wins a tie", () => {
    const log = parseUuidLog(
      "u first timestamp=5s\nu second timestamp=4s\nv a timestamp=3s\nv b timestamp=3s\nw x\nw y timestamp=1s\n",
    );
    assert.equal(log.get("u")?.description, "first");
    assert.equal(log.get("v")?.description, "b");
    assert.equal(log.get("w")?.description, "y");
  });

  it("describeUuid advances the clock and escapes newlines when written", () => {
    const log = parseUuidLog("u old timestamp=100s\n");
    const next = describeUuid(log, "u", "new\nname", clockFromSeconds(50));
    assert.equal(formatUuidLog(next), "u new\\nname timestamp=101s\n");
    const other = describeUuid(next, "a", "first", clockFromSeconds(50));
    assert.equal(formatUuidLog(other), "a first timestamp=50s\nu new\\nname timestamp=101s\n");
  });
});
