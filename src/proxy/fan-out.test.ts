import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { describe, it } from "node:test";
import { FanOut } from "./fan-out.js";

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe("FanOut", () => {
  it("copies the source to every branch, each from its skip", async () => {
    const fan = new FanOut(Readable.from([Buffer.from("hello "), Buffer.from("world")]), [0, 6]);
    const [a, b] = await Promise.all(fan.outputs.map(collect));
    assert.equal(a?.toString(), "hello world");
    assert.equal(b?.toString(), "world");
  });

  it("fails every branch when the source failed before the fan-out was made", async () => {
    // As an upload whose sender said INVALID while the nodes were asked for offsets.
    const source = new PassThrough();
    source.on("error", () => undefined);
    source.write("some bytes");
    source.destroy(new Error("sender said INVALID"));
    await finished(source).catch(() => undefined);
    const fan = new FanOut(source, [0, 0]);
    for (const out of fan.outputs) {
      await assert.rejects(collect(out), /INVALID/);
    }
  });

  it("fails every branch when the source was destroyed without an error first", async () => {
    const source = new PassThrough();
    source.destroy();
    await finished(source).catch(() => undefined);
    const fan = new FanOut(source, [0]);
    await assert.rejects(collect(fan.outputs[0] as Readable), /premature close/i);
  });

  it("ends every branch for a source already ended and read", async () => {
    const source = new PassThrough();
    source.end();
    source.resume();
    await finished(source);
    const fan = new FanOut(source, [0, 0]);
    const outs = await Promise.all(fan.outputs.map(collect));
    assert.deepEqual(
      outs.map((b) => b.length),
      [0, 0],
    );
  });
});
