import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { LiveSizes, type Reservation } from "./index.js";

const NODE = "node-uuid";
const MB = 1_000_000n;

describe("LiveSizes", () => {
  it("8 concurrent uploads into room for 4: 4 store, 4 are refused, the node never overfills", async () => {
    const live = new LiveSizes(new Map([[NODE, 0n]]), new Map([[NODE, 4n * MB]]));
    let highest = 0n;
    const upload = async (i: number): Promise<boolean> => {
      await sleep(i % 3); // arrive in a mixed order
      const r = live.reserve(NODE, MB);
      if (r === null) return false;
      const size = live.size(NODE);
      if (size > highest) highest = size;
      await sleep(5 + (i % 4));
      r.commit();
      return true;
    };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => upload(i)));
    assert.equal(results.filter(Boolean).length, 4);
    assert.ok(highest <= 4n * MB);
    assert.equal(live.size(NODE), 4n * MB);
    assert.equal(live.freeSpace(NODE), 0n);
  });

  it("a failed store gives its room back", () => {
    const live = new LiveSizes(new Map(), new Map([[NODE, 10n]]));
    const a = live.reserve(NODE, 6n);
    assert.ok(a !== null);
    assert.equal(live.reserve(NODE, 6n), null);
    assert.equal(live.freeSpace(NODE), 4n);
    a.release();
    a.release(); // twice is harmless
    assert.equal(live.freeSpace(NODE), 10n);
    assert.ok(live.reserve(NODE, 10n) !== null); // exactly full fits
    assert.equal(live.reserve(NODE, 1n), null);
  });

  it("a remove in flight frees nothing until it is committed", () => {
    const live = new LiveSizes(new Map([[NODE, 10n]]), new Map([[NODE, 10n]]));
    const rm = live.beginRemove(NODE, 4n);
    assert.deepEqual(live.inFlight(NODE), { storing: 0n, removing: 4n });
    assert.equal(live.freeSpace(NODE), 0n);
    assert.equal(live.reserve(NODE, 1n), null);
    rm.commit();
    assert.equal(live.freeSpace(NODE), 4n);
    assert.deepEqual(live.inFlight(NODE), { storing: 0n, removing: 0n });
    const rm2 = live.beginRemove(NODE, 3n);
    rm2.release();
    assert.equal(live.freeSpace(NODE), 4n);
  });

  it("repositories without a maximum size take anything", () => {
    const live = new LiveSizes();
    assert.equal(live.freeSpace(NODE), null);
    assert.ok(live.reserve(NODE, 10n ** 30n) !== null);
    assert.throws(() => live.reserve(NODE, -1n), RangeError);
  });

  it("rebase keeps stores that may not be in the fresh sizes, drops removes", () => {
    const live = new LiveSizes(new Map([[NODE, 0n]]), new Map([[NODE, 100n]]));
    live.reserve(NODE, 10n)?.commit();
    const mark = live.mark();
    live.reserve(NODE, 20n)?.commit(); // after the mark
    live.beginRemove(NODE, 5n).commit(); // after the mark
    live.rebase(new Map([[NODE, 10n]]), mark); // sizes read after the mark: include the first
    assert.equal(live.size(NODE), 30n);
  });

  it("never lets reservations exceed the maximum, whatever the order of events", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1000n }),
        fc.array(
          fc.record({
            kind: fc.constantFrom("store", "remove", "end"),
            bytes: fc.bigInt({ min: 0n, max: 300n }),
            commit: fc.boolean(),
            which: fc.nat(),
          }),
          { maxLength: 60 },
        ),
        (max, events) => {
          const live = new LiveSizes(new Map(), new Map([[NODE, max]]));
          const open: Reservation[] = [];
          for (const e of events) {
            if (e.kind === "store") {
              const r = live.reserve(NODE, e.bytes);
              if (r !== null) open.push(r);
            } else if (e.kind === "remove") {
              open.push(live.beginRemove(NODE, e.bytes));
            } else if (open.length > 0) {
              const [r] = open.splice(e.which % open.length, 1);
              if (e.commit) r?.commit();
              else r?.release();
            }
            // removes only ever lower the size, so the maximum always holds
            assert.ok(live.size(NODE) <= max);
          }
        },
      ),
    );
  });
});
