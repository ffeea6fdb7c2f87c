import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arbClock, arbRepositoryLog, checkRoundTrip } from "./arbitraries.test.js";
import { clockFromSeconds, UNKNOWN_CLOCK, type VectorClock } from "./clock.js";
import { changeMapLog } from "./map-log.js";
import { formatUuidLog, parseUuidLog } from "./uuid.js";

const arbDescription = fc
  .string({ unit: "grapheme", maxLength: 30 })
  .map((s) => s.replace(/[\r\n]/g, " "))
  .filter((s) => !s.includes("timestamp="));

describe("uuid.log", () => {
  it("round-trip: parse(format(log)) = log", () => {
    const clocks = fc.oneof(arbClock as fc.Arbitrary<VectorClock>, fc.constant(UNKNOWN_CLOCK));
    checkRoundTrip(arbRepositoryLog(arbDescription, clocks), parseUuidLog, formatUuidLog);
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
      aaaa: { clock: clockFromSeconds(1700000000), value: "my  laptop" },
      bbbb: { clock: UNKNOWN_CLOCK, value: "" },
      cccc: { clock: UNKNOWN_CLOCK, value: "old style" },
      dddd: { clock: { kind: "time", units: 17000000015n, scale: 1 }, value: "" },
      eeee: { clock: clockFromSeconds(6), value: "a timestamp=5 b" },
      ffff: { clock: UNKNOWN_CLOCK, value: "timestamp=notaclock" },
    });
  });

  it("keeps the newest line per uuid; the later line wins a tie", () => {
    const log = parseUuidLog(
      "u first timestamp=5s\nu second timestamp=4s\nv a timestamp=3s\nv b timestamp=3s\nw x\nw y timestamp=1s\n",
    );
    assert.equal(log.get("u")?.value, "first");
    assert.equal(log.get("v")?.value, "b");
    assert.equal(log.get("w")?.value, "y");
  });

  it("a new description advances the clock and escapes newlines when written", () => {
    const log = parseUuidLog("u old timestamp=100s\n");
    const next = changeMapLog(log, "u", "new\nname", clockFromSeconds(50));
    assert.equal(formatUuidLog(next), "u new\\nname timestamp=101s\n");
    const other = changeMapLog(next, "a", "first", clockFromSeconds(50));
    assert.equal(formatUuidLog(other), "a first timestamp=50s\nu new\\nname timestamp=101s\n");
  });
});
