import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { clockFromSeconds, parseClock } from "./clock.js";
import { formatGroupLog, parseGroupLog } from "./group.js";
import { changeMapLog, entryValues } from "./map-log.js";
import { currentMetaData, parseMetaDataLog } from "./metadata.js";
import { formatCopiesLog, newestCopies, parseCopiesLog } from "./numcopies.js";
import {
  formatExpressionLog,
  formatGroupExpressionLog,
  parseExpressionLog,
  parseGroupExpressionLog,
} from "./preferred-content.js";
import { formatTrustLog, parseTrustLog } from "./trust.js";

const U1 = "11111111-1111-4111-8111-111111111111";
const U2 = "22222222-2222-4222-8222-222222222222";

const word = fc.stringMatching(/^[a-z0-9_.-]{1,8}$/);

describe("uuid-based logs", () => {
  it("group.log: parse/format round trip, newest wins", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(word, { maxLength: 4 }),
        fc.integer({ min: 0, max: 2e9 }),
        (groups, t) => {
          const log = changeMapLog(new Map(), U1, new Set(groups), clockFromSeconds(t));
          assert.deepEqual(parseGroupLog(formatGroupLog(log)), log);
        },
      ),
    );
    const text = `${U1} a b timestamp=10s\n${U1} c timestamp=5s\n${U2}  x  y timestamp=1s\n`;
    const v = entryValues(parseGroupLog(text));
    assert.deepEqual(v.get(U1), new Set(["a", "b"]));
    assert.deepEqual(v.get(U2), new Set(["x", "y"]));
    assert.equal(
      formatGroupLog(parseGroupLog(`${U1} b a timestamp=10s\n`)),
      `${U1} a b timestamp=10s\n`,
    );
  });

  it("trust.log: every level, old lines without a value are trusted", () => {
    const log = parseTrustLog(`${U1} X timestamp=1s\n${U2}\n`);
    assert.deepEqual(
      entryValues(log),
      new Map([
        [U1, "dead"],
        [U2, "trusted"],
      ]),
    );
    for (const level of ["dead", "untrusted", "semitrusted", "trusted"] as const) {
      const l = changeMapLog(new Map(), U1, level, clockFromSeconds(7));
      assert.deepEqual(parseTrustLog(formatTrustLog(l)), l);
    }
    assert.equal(entryValues(parseTrustLog(`${U1} 7 timestamp=1s\n`)).get(U1), "semitrusted");
    assert.equal(parseTrustLog(`${U1} 10 timestamp=1s\n`).size, 0);
  });

  it("preferred-content.log keeps whole expressions; group-preferred-content.log is a map log", () => {
    const expr = "include=* and (not copies=archive:1)";
    const log = changeMapLog(new Map(), U1, expr, clockFromSeconds(3));
    assert.equal(formatExpressionLog(log), `${U1} ${expr} timestamp=3s\n`);
    assert.deepEqual(parseExpressionLog(formatExpressionLog(log)), log);
    const glog = changeMapLog(new Map(), "archive", "present or copies=1", clockFromSeconds(4));
    assert.equal(formatGroupExpressionLog(glog), "4s archive present or copies=1\n");
    assert.deepEqual(parseGroupExpressionLog(formatGroupExpressionLog(glog)), glog);
    // A clock later in the file loses to a newer one earlier.
    const two = parseExpressionLog(`${U1} new timestamp=9s\n${U1} old timestamp=2s\n`);
    assert.equal(two.get(U1)?.value, "new");
  });
});

describe("numcopies", () => {
  it("reads the newest value, at least 1, written as one line past the old clocks", () => {
    const lines = parseCopiesLog("5s 2\n9s 3\n9s 1\nbad\n7s 0\n");
    assert.equal(newestCopies(lines), 3);
    assert.equal(newestCopies(parseCopiesLog("1s 0\n")), 1);
    assert.equal(newestCopies([]), null);
    const clock = parseClock("3s");
    assert.ok(clock !== null);
    assert.equal(formatCopiesLog(lines, 4, clock), "10s 4\n");
  });
});

describe("metadata", () => {
  it("combines lines, newest winning, with lastchanged fields", () => {
    const text = ["1700000000s tag +a +b n +1", "1700000100s tag -a +!aGVsbG8gd29ybGQ= n -1"].join(
      "\n",
    );
    const m = currentMetaData(parseMetaDataLog(text));
    assert.deepEqual(m.fields.get("tag")?.values, new Set(["b", "hello world"]));
    assert.equal(m.fields.get("n"), undefined);
    assert.deepEqual(m.fields.get("tag-lastchanged")?.values, new Set(["2023-11-14@22-15-00"]));
    assert.deepEqual(m.fields.get("lastchanged")?.values, new Set(["2023-11-14@22-15-00"]));
  });
});
