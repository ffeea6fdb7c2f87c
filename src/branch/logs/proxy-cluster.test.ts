import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { genClusterUuid } from "../../keys/index.js";
import { arbClock } from "./arbitraries.test.js";
import { clockFromSeconds } from "./clock.js";
import { clustersFromLog, formatClusterLog, parseClusterLog } from "./cluster.js";
import { changeMapLog } from "./map-log.js";
import {
  formatProxyLog,
  isLegalRemoteName,
  type ProxyLogEntry,
  parseProxyLog,
  proxiesFromLog,
} from "./proxy.js";

const arbUuid = fc.stringMatching(/^[0-9a-f-]{1,36}$/);
const arbName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}$/);
const arbEntries = fc.array(
  fc.record({ uuid: arbUuid, name: arbName }).map((r) => ({ ...r })),
  { maxLength: 5 },
);

function sorted(entries: readonly ProxyLogEntry[]): ProxyLogEntry[] {
  const key = (e: ProxyLogEntry) => `${e.uuid}\0${e.name}`;
  const m = new Map(entries.map((e) => [key(e), e]));
  return [...m.keys()].sort().map((k) => m.get(k) as ProxyLogEntry);
}

describe("proxy.log", () => {
  it("round-trip: parse(format(log)) = log, entries sorted and unique", () => {
    fc.assert(
      fc.property(
        fc.dictionary(arbUuid, fc.record({ clock: arbClock, value: arbEntries }), { maxKeys: 6 }),
        (obj) => {
          const log = new Map(Object.entries(obj));
          const back = parseProxyLog(formatProxyLog(log));
          assert.equal(back.size, log.size);
          for (const [u, e] of log) {
            assert.deepEqual(back.get(u)?.value, sorted(e.value));
            assert.deepEqual(back.get(u)?.clock, e.clock);
          }
        },
      ),
    );
  });

  it("writes git-annex's exact bytes: one line per proxy, sorted, trailing space when empty", () => {
    const log = new Map([
      [
        "bbbb",
        {
          clock: clockFromSeconds(5),
          value: [
            { uuid: "u2", name: "n2" },
            { uuid: "u1", name: "n1" },
          ],
        },
      ],
      ["aaaa", { clock: clockFromSeconds(7), value: [] }],
    ]);
    assert.equal(formatProxyLog(log), "7s aaaa \n5s bbbb u1:n1 u2:n2\n");
  });

  it("newest clock per UUID wins, the later line on a tie; bad lines are skipped", () => {
    const text =
      "5s p a:old\n9s p a:new\n7s p a:older\n3s q x:one\n3s q x:two\n" +
      "notaclock r a:b\n4s s a:b  c:d\n4s t a\n4s u\n4s v :b\n";
    const log = parseProxyLog(text);
    assert.deepEqual(log.get("p")?.value, [{ uuid: "a", name: "new" }]);
    assert.deepEqual(log.get("q")?.value, [{ uuid: "x", name: "two" }]);
    // "a:b  c:d": the second word's UUID takes the space, as attoparsec's takeWhile1 does.
    assert.deepEqual(log.get("s")?.value, [
      { uuid: " c", name: "d" },
      { uuid: "a", name: "b" },
    ]);
    for (const bad of ["r", "t", "u", "v"]) assert.equal(log.has(bad), false, bad);
  });

  it("reading leaves out names that are not legal git remote names", () => {
    const m = proxiesFromLog("1s p a:ok b:-dash c:.dot d:has/slash e:ünïcode f:x_y.z-1\n");
    assert.deepEqual(
      m.get("p")?.map((e) => e.name),
      ["ok", "ünïcode", "x_y.z-1"],
    );
    assert.equal(isLegalRemoteName(""), false);
    assert.equal(isLegalRemoteName("a b"), false);
    assert.equal(isLegalRemoteName("_a"), true);
  });

  it("changeMapLog advances past the old clock", () => {
    const log = parseProxyLog("100s me a:b\n");
    const next = changeMapLog(log, "me", [], clockFromSeconds(50));
    assert.equal(formatProxyLog(next), "101s me \n");
  });
});

describe("cluster.log", () => {
  it("round-trip with sorted, unique nodes", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          arbUuid,
          fc.record({ clock: arbClock, value: fc.array(arbUuid, { maxLength: 5 }) }),
          {
            maxKeys: 6,
          },
        ),
        (obj) => {
          const log = new Map(Object.entries(obj));
          const back = parseClusterLog(formatClusterLog(log));
          for (const [u, e] of log) {
            assert.deepEqual(back.get(u)?.value, [...new Set(e.value)].sort());
          }
        },
      ),
    );
  });

  it("keeps only cluster UUID keys, drops dead nodes, skips bad lines", () => {
    const cu = genClusterUuid();
    const text = `1s ${cu} n2 n1 dead\n1s 0123-not-cluster n1\n1s acxxxxxxxxxxxx7x n1\n2s ${cu}x a  b\n`;
    const m = clustersFromLog(text, new Set(["dead"]));
    assert.deepEqual([...m.keys()], [cu]);
    assert.deepEqual([...(m.get(cu) ?? [])], ["n1", "n2"]);
    assert.equal(formatClusterLog(parseClusterLog(text)).split("\n")[0], `1s 0123-not-cluster n1`);
  });
});
