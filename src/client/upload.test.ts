import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Slots } from "./slots.js";
import { countedStream, sourceFrom, sourceSize } from "./upload.js";

async function bytesOf(content: Uint8Array | Blob | AsyncIterable<Uint8Array>): Promise<number[]> {
  if (content instanceof Uint8Array) return [...content];
  if (content instanceof Blob) return [...new Uint8Array(await content.arrayBuffer())];
  const out: number[] = [];
  for await (const c of content) out.push(...c);
  return out;
}

describe("a put's source from an offset", () => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => i);
  async function* inChunks(size: number) {
    for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
  }

  it("skips the first bytes of every kind of source, across chunk boundaries", async () => {
    for (const offset of [0, 1, 7, 30, 99, 100]) {
      const want = [...data.subarray(offset)];
      assert.deepEqual(await bytesOf(await sourceFrom(data, offset)), want);
      assert.deepEqual(await bytesOf(await sourceFrom(new Blob([data]), offset)), want);
      assert.deepEqual(await bytesOf(await sourceFrom(inChunks(7), offset)), want, `${offset}`);
      assert.deepEqual(await bytesOf(await sourceFrom(new Blob([data]).stream(), offset)), want);
      // A function is asked for the content from the offset itself.
      assert.deepEqual(await bytesOf(await sourceFrom((o) => data.subarray(o), offset)), want);
    }
    assert.equal(sourceSize(data), 100);
    assert.equal(sourceSize(new Blob([data])), 100);
    assert.equal(sourceSize(inChunks(7)), undefined);
  });

  it("counts what is taken, in steps of at most 64 KiB, and reports a failing source", async () => {
    const big = new Uint8Array(200_000);
    const seen: number[] = [];
    const stream = countedStream(
      (async function* () {
        yield big;
      })(),
      (n) => seen.push(n),
    );
    let total = 0;
    for await (const c of stream) total += c.length;
    assert.equal(total, 200_000);
    assert.deepEqual(seen, [65_536, 131_072, 196_608, 200_000]);
    let failed: unknown;
    const broken = (async function* () {
      yield big;
      throw new Error("disk gone");
    })();
    const reading = (async () => {
      for await (const _ of countedStream(
        broken,
        () => undefined,
        (e) => (failed = e),
      ));
    })();
    await assert.rejects(reading, /disk gone/);
    assert.match(String(failed), /disk gone/);
  });
});

describe("Slots", () => {
  it("lets as many through as it has, the next when one is given back (once)", async () => {
    const slots = new Slots(2);
    const a = await slots.take();
    const b = await slots.take();
    let third = false;
    const c = slots.take().then((give) => {
      third = true;
      return give;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false);
    a();
    a(); // twice is once
    const giveC = await c;
    assert.equal(third, true);
    let fourth = false;
    void slots.take().then(() => {
      fourth = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(fourth, false, "a second give-back of the same slot freed nothing");
    b();
    await new Promise((r) => setImmediate(r));
    assert.equal(fourth, true);
    giveC();
  });
});
