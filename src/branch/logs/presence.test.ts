import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { arbClock } from "./arbitraries.test.js";
import { clockFromSeconds } from "./clock.js";
import {
  compactPresenceLog,
  formatPresenceLog,
  type PresenceLine,
  parsePresenceLog,
  presentInfos,
  setPresence,
} from "./presence.js";

const arbLine: fc.Arbitrary<PresenceLine> = fc
  .record({
    clock: arbClock,
    status: fc.constantFrom("present", "missing", "dead"),
    info: fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, "")),
  })
  .map((r) => ({ ...r }));

describe("presence log", () => {
  it("round-trip: parse(format(lines)) = lines", () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 20 }), (lines) => {
        assert.deepEqual(parsePresenceLog(formatPresenceLog(lines)), lines);
      }),
    );
  });

  it("parses git-annex's lines, skipping ones it would skip", () => {
    const text =
      "1700000000s 1 u-1\r\n\r\n" +
      "1700000001.5s 0 u-2\n" +
      "garbage\n" +
      "1700000002s 2 u-3\n" +
      "1700000003 X u 4 with spaces\n" +
      "1700000004s 1\n";
    assert.deepEqual(parsePresenceLog(text), [
      { clock: clockFromSeconds(1700000000), status: "present", info: "u-1" },
      { clock: { kind: "time", units: 17000000015n, scale: 1 }, status: "missing", info: "u-2" },
      { clock: clockFromSeconds(1700000003), status: "dead", info: "u 4 with spaces" },
    ]);
  });

  it("compacts to the newest line per info; the earliest wins a tie", () => {
    const lines = parsePresenceLog("5s 1 b\n" + "3s 1 a\n" + "4s 0 a\n" + "5s 0 b\n" + "2s 1 c\n");
    assert.equal(formatPresenceLog(compactPresenceLog(lines)), "4s 0 a\n5s 1 b\n2s 1 c\n");
    assert.deepEqual(presentInfos(lines), ["b", "c"]);
  });

  it("compaction is idempotent and keeps the meaning of the log", () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 20 }), (lines) => {
        const once = compactPresenceLog(lines);
        assert.deepEqual(compactPresenceLog(once), once);
        assert.deepEqual(presentInfos(once), presentInfos(lines));
      }),
    );
  });

  it("setPresence advances the clock, compacts, and reports no-ops", () => {
    const old = parsePresenceLog("10s 1 u\n3s 1 v\n9s 0 u\n");
    assert.equal(setPresence(old, "present", "u", clockFromSeconds(5)), null);
    const dropped = setPresence(old, "missing", "u", clockFromSeconds(5));
    assert.equal(formatPresenceLog(dropped ?? []), "11s 0 u\n3s 1 v\n");
    const added = setPresence([], "present", "w", clockFromSeconds(7));
    assert.equal(formatPresenceLog(added ?? []), "7s 1 w\n");
  });
});
