import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deferred, tick } from "./gates.fixture.js";
import { forEachBounded, QueueFullError, Semaphore } from "./index.js";

describe("Semaphore", () => {
  it("runs at most `limit` tasks at once, the rest in arrival order", async () => {
    const s = new Semaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      s.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await tick();
    assert.deepEqual(started, [0, 1]);
    assert.equal(s.active, 2);
    assert.equal(s.waiting, 2);
    gates[1]?.resolve();
    await runs[1];
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    for (const g of gates) g.resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
    assert.equal(s.active, 0);
    assert.equal(s.waiting, 0);
  });

  it("frees the place of a task that fails", async () => {
    const s = new Semaphore(1);
    await assert.rejects(
      s.run(async () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await s.run(async () => "next"), "next");
    assert.equal(s.active, 0);
  });

  it("refuses a limit below 1", () => {
    assert.throws(() => new Semaphore(0), RangeError);
  });
});

describe("forEachBounded", () => {
  it("keeps at most `limit` running and answers in the items' order, failures as Errors", async () => {
    let running = 0;
    let most = 0;
    const results = await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n, i) => {
      running++;
      most = Math.max(most, running);
      for (let k = 0; k < 8 - n; k++) await tick();
      running--;
      if (n === 4) throw new Error("four");
      if (n === 5) throw "five";
      return n * 10 + i;
    });
    assert.equal(most, 3);
    assert.deepEqual(results.slice(0, 3), [10, 21, 32]);
    assert.ok(results[3] instanceof Error && results[3].message === "four");
    assert.ok(results[4] instanceof Error && results[4].message === "five");
    assert.deepEqual(results.slice(5), [65, 76]);
  });

  it("answers an empty list at once", async () => {
    assert.deepEqual(await forEachBounded([], 4, async () => 1), []);
  });
});

/** A task that runs until its `finish` is called. */
function gate(): { task: () => Promise<void>; finish: () => void; started: Promise<void> } {
  let finish!: () => void;
  let started!: () => void;
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  const done = new Promise<void>((r) => {
    finish = r;
  });
  return {
    task: () => {
      started();
      return done;
    },
    finish,
    started: startedP,
  };
}

describe("Semaphore: bounded queue and abort", () => {
  it("runs at most `limit` tasks, queues at most `maxQueued`, refuses past it", async () => {
    const s = new Semaphore(1, 1);
    const a = gate();
    const b = gate();
    const ra = s.run(a.task);
    const rb = s.run(b.task);
    await a.started;
    assert.equal(s.active, 1);
    assert.equal(s.waiting, 1);
    await assert.rejects(
      s.run(async () => undefined),
      QueueFullError,
    );
    a.finish();
    await ra;
    await b.started;
    assert.equal(s.waiting, 0);
    b.finish();
    await rb;
    assert.equal(s.active, 0);
  });

  it("a waiter whose signal aborts leaves the queue and its task never runs", async () => {
    const s = new Semaphore(1, 4);
    const a = gate();
    const ra = s.run(a.task);
    await a.started;
    const controller = new AbortController();
    let ran = false;
    const waiting = s.run(async () => {
      ran = true;
    }, controller.signal);
    assert.equal(s.waiting, 1);
    controller.abort(new Error("gone"));
    await assert.rejects(waiting, /gone/);
    assert.equal(s.waiting, 0);
    a.finish();
    await ra;
    assert.equal(s.active, 0);
    assert.equal(ran, false);
  });

  it("an already aborted signal takes no slot", async () => {
    const s = new Semaphore(2);
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    await assert.rejects(
      s.run(async () => undefined, controller.signal),
      /gone/,
    );
    assert.equal(s.active, 0);
  });
});
