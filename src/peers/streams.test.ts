import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it, mock } from "node:test";
import { StallTimer } from "../util/index.js";
import { ByteCounter } from "./streams.js";

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

describe("ByteCounter with a StallTimer", () => {
  it("a source that goes silent while the reader waits stalls", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let stalled = 0;
      const counter = new ByteCounter(new StallTimer(1000, () => stalled++));
      const source = new PassThrough();
      source.pipe(counter);
      counter.on("data", () => undefined);
      source.write(Buffer.alloc(10));
      await settle();
      mock.timers.tick(999);
      assert.equal(stalled, 0);
      mock.timers.tick(1);
      assert.equal(stalled, 1);
      assert.equal(counter.count, 10);
    } finally {
      mock.timers.reset();
    }
  });

  it("a reader that stops reading is not the source's stall", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      let stalled = 0;
      const counter = new ByteCounter(new StallTimer(1000, () => stalled++));
      const source = new PassThrough();
      source.pipe(counter);
      counter.read(0); // the reader asks once, then stops
      source.write(Buffer.alloc(256 * 1024));
      await settle();
      mock.timers.tick(60_000);
      assert.equal(stalled, 0);
      source.end();
      let got = 0;
      for await (const c of counter) got += (c as Buffer).length;
      assert.equal(got, 256 * 1024);
      mock.timers.tick(60_000);
      assert.equal(stalled, 0, "an ended stream never stalls");
    } finally {
      mock.timers.reset();
    }
  });
});
