import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { deferred, tick } from "./gates.fixture.js";
import { KeyedMutex } from "./index.js";

describe("KeyedMutex", () => {
  it("runs work on one key one at a time, in arrival order", async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((g, i) =>
      m.run("k", async () => {
        log.push(`start ${i}`);
        await g.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await tick();
    assert.deepEqual(log, ["start 0"]);
    // Finishing out of order changes nothing: 2 waits behind 1.
    gates[2]?.resolve();
    await tick();
    assert.deepEqual(log, ["start 0"]);
    gates[0]?.resolve();
    await tick();
    assert.deepEqual(log, ["start 0", "end 0", "start 1"]);
    gates[1]?.resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
    assert.deepEqual(log, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
  });

  it("runs work on different keys at the same time", async () => {
    const m = new KeyedMutex();
    const gate = deferred();
    let bRan = false;
    const a = m.run("a", () => gate.promise);
    const b = m.run("b", async () => {
      bRan = true;
    });
    await b;
    assert.equal(bRan, true);
    assert.equal(m.busy("a"), true);
    assert.equal(m.busy("b"), false);
    gate.resolve();
    await a;
  });

  it("passes on the turn when work fails", async () => {
    const m = new KeyedMutex();
    const first = m.run("k", async () => {
      throw new Error("boom");
    });
    const second = m.run("k", async () => "fine");
    await assert.rejects(first, /boom/);
    assert.equal(await second, "fine");
    assert.equal(m.busy("k"), false);
  });

  it("is busy while work holds or waits, and forgets idle keys", async () => {
    const m = new KeyedMutex();
    assert.equal(m.busy("k"), false);
    const gate = deferred();
    const a = m.run("k", () => gate.promise);
    const b = m.run("k", async () => undefined);
    assert.equal(m.busy("k"), true);
    gate.resolve();
    await a;
    assert.equal(m.busy("k"), true, "b still waits or runs");
    await b;
    assert.equal(m.busy("k"), false);
    // Nothing is kept for the key.
    assert.equal(m.held(), 0);
  });

  it("never overlaps and always forgets, for any mix of keys and outcomes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom("a", "b", "c"), fail: fc.boolean() }), {
          maxLength: 30,
        }),
        async (jobs) => {
          const m = new KeyedMutex();
          const active = new Map<string, number>();
          const order = new Map<string, number[]>();
          const results = jobs.map((job, i) =>
            m
              .run(job.key, async () => {
                const n = (active.get(job.key) ?? 0) + 1;
                active.set(job.key, n);
                assert.equal(n, 1, "two holders of one key");
                order.set(job.key, [...(order.get(job.key) ?? []), i]);
                await tick();
                active.set(job.key, n - 1);
                if (job.fail) throw new Error("fail");
              })
              .catch(() => undefined),
          );
          await Promise.all(results);
          for (const [key, seen] of order) {
            const expected = jobs.flatMap((j, i) => (j.key === key ? [i] : []));
            assert.deepEqual(seen, expected);
          }
          assert.equal(m.held(), 0);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("KeyedMutex.held and idle", () => {
  it("counts the keys held or waited for, and idle() waits for all of them", async () => {
    const m = new KeyedMutex();
    const a = deferred();
    const b = deferred();
    const done: string[] = [];
    const runs = [
      m.run("a", () => a.promise.then(() => done.push("a1"))),
      m.run("a", async () => done.push("a2")),
      m.run("b", () => b.promise.then(() => done.push("b"))),
    ];
    assert.equal(m.held(), 2);
    let idle = false;
    const waiting = m.idle().then(() => {
      idle = true;
    });
    a.resolve();
    await runs[1];
    assert.equal(m.held(), 1);
    assert.equal(idle, false, "b still runs");
    b.resolve();
    await waiting;
    assert.deepEqual(done.sort(), ["a1", "a2", "b"]);
    assert.equal(m.held(), 0);
    await Promise.all(runs);
  });

  it("idle() also waits for work queued while it waits", async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const first = m.run("k", async () => {
      order.push("first");
      void m.run("j", async () => {
        await tick();
        order.push("queued meanwhile");
      });
    });
    await m.idle();
    await first;
    assert.deepEqual(order, ["first", "queued meanwhile"]);
    assert.equal(m.held(), 0);
  });
});

describe("KeyedMutex.runWithin", () => {
  it("gives up after the wait, and whoever comes next still waits for the holder", async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    let releaseHolder!: () => void;
    const holder = m.run("k", async () => {
      order.push("holder start");
      await new Promise<void>((r) => {
        releaseHolder = r;
      });
      order.push("holder end");
    });
    const gaveUp = await m.runWithin("k", 50, "busy", async () => {
      order.push("impatient ran");
      return "ran";
    });
    assert.equal(gaveUp, "busy");
    const next = m.run("k", async () => {
      order.push("next");
    });
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(order, ["holder start"]);
    releaseHolder();
    await holder;
    await next;
    assert.deepEqual(order, ["holder start", "holder end", "next"]);
    assert.equal(await m.runWithin("k", 50, "busy", async () => "ran"), "ran");
    assert.equal(m.busy("k"), false);
    assert.equal(m.held(), 0, "the one that gave up left nothing held");
  });
});
