import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { QueueFullError, Semaphore } from "./semaphore.js";

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

describe("Semaphore", () => {
  it("runs at most `limit` tasks, queues at most `maxQueued`, refuses past it", async () => {
    const s = new Semaphore(1, 1);
    const a = gate();
    const b = gate();
    const ra = s.run(a.task);
    const rb = s.run(b.task);
    await a.started;
    assert.equal(s.active, 1);
    assert.equal(s.queued, 1);
    await assert.rejects(
      s.run(async () => undefined),
      QueueFullError,
    );
    a.finish();
    await ra;
    await b.started;
    assert.equal(s.queued, 0);
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
    assert.equal(s.queued, 1);
    controller.abort(new Error("gone"));
    await assert.rejects(waiting, /gone/);
    assert.equal(s.queued, 0);
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
