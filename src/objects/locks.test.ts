import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ContentLocks, DEFAULT_LOCK_RETENTION_MS } from "./index.js";

/** A clock the test moves by hand. */
function manualClock(start = 1000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Locks retained 100 ms on a clock the test moves. */
function locksOnManualClock() {
  const clock = manualClock();
  return { clock, locks: new ContentLocks(100, clock.now) };
}

describe("ContentLocks", () => {
  it("retains a lock for ten minutes by default", () => {
    assert.equal(DEFAULT_LOCK_RETENTION_MS, 600_000);
    const clock = manualClock();
    const locks = new ContentLocks(undefined, clock.now);
    locks.lock("k");
    clock.advance(599_999);
    assert.equal(locks.isLocked("k"), true);
    clock.advance(1);
    assert.equal(locks.isLocked("k"), false);
  });

  it("locks until released", () => {
    const locks = new ContentLocks();
    assert.equal(locks.isLocked("k"), false);
    const held = locks.lock("k");
    assert.ok(held);
    assert.equal(locks.isLocked("k"), true);
    assert.equal(locks.isLocked("other"), false);
    held.release();
    assert.equal(locks.isLocked("k"), false);
    held.release(); // twice is harmless
    assert.equal(locks.isLocked("k"), false);
  });

  it("is shared: the key stays locked until every holder releases", () => {
    const locks = new ContentLocks();
    const a = locks.lock("k");
    const b = locks.lock("k");
    assert.ok(a && b);
    a.release();
    assert.equal(locks.isLocked("k"), true);
    a.release(); // a second release of a must not release b
    assert.equal(locks.isLocked("k"), true);
    b.release();
    assert.equal(locks.isLocked("k"), false);
  });

  it("expires a lock after the retention time", () => {
    const { clock, locks } = locksOnManualClock();
    const held = locks.lock("k");
    assert.ok(held);
    clock.advance(99);
    assert.equal(locks.isLocked("k"), true);
    clock.advance(1);
    assert.equal(locks.isLocked("k"), false);
    held.release(); // releasing an expired lock is harmless
    assert.equal(locks.isLocked("k"), false);
  });

  it("expires each holder on its own schedule", () => {
    const { clock, locks } = locksOnManualClock();
    locks.lock("k");
    clock.advance(60);
    locks.lock("k");
    clock.advance(50); // first expired, second has 50 left
    assert.equal(locks.isLocked("k"), true);
    clock.advance(50);
    assert.equal(locks.isLocked("k"), false);
  });

  it("never expires a pinned lock", () => {
    const { clock, locks } = locksOnManualClock();
    const held = locks.lock("k");
    assert.ok(held);
    held.pin();
    clock.advance(1_000_000);
    assert.equal(locks.isLocked("k"), true);
    held.release();
    assert.equal(locks.isLocked("k"), false);
  });

  it("whileRemoving refuses, without running, while the key is locked", async () => {
    const locks = new ContentLocks();
    const held = locks.lock("k");
    assert.ok(held);
    let ran = false;
    const r = await locks.whileRemoving("k", async () => {
      ran = true;
      return "removed";
    });
    assert.equal(r, null);
    assert.equal(ran, false);
    held.release();
    assert.equal(await locks.whileRemoving("k", async () => "removed"), "removed");
  });

  it("whileRemoving runs once an expired lock no longer counts", async () => {
    const { clock, locks } = locksOnManualClock();
    locks.lock("k");
    assert.equal(await locks.whileRemoving("k", async () => 1), null);
    clock.advance(100);
    assert.equal(await locks.whileRemoving("k", async () => 1), 1);
  });

  it("takes no lock while a removal runs, and again after", async () => {
    const locks = new ContentLocks();
    let during: unknown = "unset";
    let concurrent: unknown = "unset";
    await locks.whileRemoving("k", async () => {
      during = locks.lock("k");
      concurrent = await locks.whileRemoving("k", async () => "second");
      assert.ok(locks.lock("other"), "other keys are not affected");
    });
    assert.equal(during, null);
    assert.equal(concurrent, null, "a second removal of the same key runs alongside");
    assert.ok(locks.lock("k"));
  });

  it("ends the removal state when the removal throws", async () => {
    const locks = new ContentLocks();
    await assert.rejects(
      locks.whileRemoving("k", async () => {
        throw new Error("disk on fire");
      }),
      /disk on fire/,
    );
    assert.ok(locks.lock("k"));
  });
});
