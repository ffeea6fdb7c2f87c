import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { describe, it } from "node:test";
import { waitForDrain, writeOrDrop } from "./index.js";

/** A writable that keeps each chunk's callback until `release()`, so it stays full. */
function heldWritable(): { out: Writable; got: Buffer[]; release: () => void } {
  const got: Buffer[] = [];
  const held: Array<() => void> = [];
  const out = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      held.push(cb);
    },
  });
  return {
    out,
    got,
    release: () => {
      for (const cb of held.splice(0)) cb();
    },
  };
}

describe("writeOrDrop", () => {
  it("resolves at once while there is room", async () => {
    const out = new PassThrough();
    await writeOrDrop(out, Buffer.from("ab"));
    assert.equal(out.read().toString(), "ab");
  });

  it("waits for 'drain' when the stream is full", async () => {
    const { out, got, release } = heldWritable();
    let done = false;
    const w = writeOrDrop(out, Buffer.from("12345678")).then(() => {
      done = true;
    });
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(done, false);
    assert.equal(got.length, 1);
    release();
    await w;
    assert.equal(done, true);
  });

  it("stops waiting when the stream closes, and drops writes once it is gone", async () => {
    const { out } = heldWritable();
    const w = writeOrDrop(out, Buffer.from("12345678"));
    out.on("error", () => {});
    out.destroy();
    await w;
    await writeOrDrop(out, "dropped");
    const ended = new PassThrough();
    ended.end();
    await writeOrDrop(ended, "dropped");
    assert.equal(ended.writableLength, 0);
  });
});

describe("waitForDrain", () => {
  it("resolves at once when the stream is not full, and on 'drain' when it is", async () => {
    await waitForDrain(new PassThrough(), () => new Error("closed"));
    const { out, release } = heldWritable();
    assert.equal(out.write(Buffer.from("12345678")), false);
    const w = waitForDrain(out, () => new Error("closed"));
    release();
    await w;
  });

  it("rejects with closed() when the stream closes first, and with its error", async () => {
    const a = heldWritable().out;
    a.write(Buffer.from("12345678"));
    const wa = waitForDrain(a, () => new Error("went away"));
    a.destroy();
    await assert.rejects(wa, /went away/);
    await assert.rejects(
      waitForDrain(a, () => new Error("already gone")),
      /already gone/,
    );
    const b = heldWritable().out;
    b.write(Buffer.from("12345678"));
    const wb = waitForDrain(b, () => new Error("closed"));
    b.destroy(new Error("disk on fire"));
    await assert.rejects(wb, /disk on fire/);
  });
});
