import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { StallTimer } from "./index.js";

describe("StallTimer", () => {
  it("fires after the timeout while the other party owes progress", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let fired = 0;
      const t = new StallTimer(1000, () => fired++);
      t.begin();
      mock.timers.tick(999);
      assert.equal(fired, 0);
      mock.timers.tick(1);
      assert.equal(fired, 1);
      assert.equal(t.stalled, true);
      mock.timers.tick(5000);
      assert.equal(fired, 1, "fires once");
    } finally {
      mock.timers.reset();
    }
  });

  it("progress restarts the time allowed", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let fired = 0;
      const t = new StallTimer(1000, () => fired++);
      t.begin();
      for (let i = 0; i < 10; i++) {
        mock.timers.tick(900);
        t.progress();
      }
      assert.equal(fired, 0);
      mock.timers.tick(1000);
      assert.equal(fired, 1);
    } finally {
      mock.timers.reset();
    }
  });

  it("never counts time when nobody waits on the other party", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let fired = 0;
      const t = new StallTimer(1000, () => fired++);
      mock.timers.tick(5000);
      const a = t.begin();
      const b = t.begin();
      mock.timers.tick(500);
      a();
      a(); // ending one wait twice ends it once
      mock.timers.tick(400);
      b();
      mock.timers.tick(5000);
      assert.equal(fired, 0);
      assert.equal(t.stalled, false);
      t.begin();
      mock.timers.tick(1000);
      assert.equal(fired, 1, "a new wait gets the whole timeout, and no more");
    } finally {
      mock.timers.reset();
    }
  });

  it("stop() keeps it from firing", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let fired = 0;
      const t = new StallTimer(1000, () => fired++);
      t.begin();
      t.stop();
      t.begin();
      mock.timers.tick(5000);
      assert.equal(fired, 0);
    } finally {
      mock.timers.reset();
    }
  });

  it("refuses a timeout of 0", () => {
    assert.throws(() => new StallTimer(0, () => undefined), RangeError);
  });
});
