import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { deferred, tick } from "./gates.fixture.js";
import { copyAtMost } from "./index.js";

/** A destination that keeps what it is given. */
function collector(): { write: (b: Buffer) => Promise<void>; bytes: () => Buffer } {
  const got: Buffer[] = [];
  return { write: async (b) => void got.push(b), bytes: () => Buffer.concat(got) };
}

const chunks = (...texts: string[]) => Readable.from(texts.map((t) => Buffer.from(t)));

describe("copyAtMost", () => {
  const whole: [string, string[], number, { received: number; tooLong: boolean; text: string }][] =
    [
      [
        "exactly the promised length",
        ["ab", "cde"],
        5,
        { received: 5, tooLong: false, text: "abcde" },
      ],
      ["fewer bytes", ["ab"], 5, { received: 2, tooLong: false, text: "ab" }],
      [
        "more, in a chunk after the last",
        ["abcde", "f"],
        5,
        { received: 5, tooLong: true, text: "abcde" },
      ],
      ["more, inside one chunk", ["abcdefg"], 5, { received: 5, tooLong: true, text: "abcde" }],
    ];
  for (const [what, texts, length, want] of whole) {
    it(`copies ${what}, through the verifier`, async () => {
      const out = collector();
      const hash = createHash("sha256");
      const t = await copyAtMost(chunks(...texts), length, out.write, hash);
      assert.deepEqual(t, { received: want.received, tooLong: want.tooLong, aborted: false });
      assert.equal(out.bytes().toString(), want.text);
      assert.equal(hash.digest("hex"), createHash("sha256").update(want.text).digest("hex"));
    });
  }

  it("awaits each write before taking the next chunk (backpressure)", async () => {
    const gate = deferred();
    const firstWrite = deferred();
    const seen: string[] = [];
    const write = async (b: Buffer) => {
      seen.push(b.toString());
      if (seen.length > 1) return;
      firstWrite.resolve();
      await gate.promise;
    };
    const copying = copyAtMost(chunks("a", "b"), 2, write, null);
    await firstWrite.promise;
    await tick();
    assert.deepEqual(seen, ["a"], "the next chunk waited for the write");
    gate.resolve();
    assert.deepEqual(await copying, { received: 2, tooLong: false, aborted: false });
    assert.deepEqual(seen, ["a", "b"]);
  });

  it("ends as aborted when the sender fails, keeping what it wrote", async () => {
    const data = new PassThrough();
    const out = collector();
    const wrote = deferred();
    const copying = copyAtMost(
      data,
      10,
      async (b) => {
        await out.write(b);
        wrote.resolve();
      },
      null,
    );
    data.write("abc");
    await wrote.promise;
    data.destroy(new Error("connection reset"));
    assert.deepEqual(await copying, { received: 3, tooLong: false, aborted: true });
    assert.equal(out.bytes().toString(), "abc");
  });

  it("ends a stalled sender when the signal aborts", async () => {
    const data = new PassThrough();
    const wrote = deferred();
    const controller = new AbortController();
    const copying = copyAtMost(data, 10, async () => wrote.resolve(), null, controller.signal);
    data.write("abc");
    await wrote.promise;
    controller.abort(new Error("client went away"));
    assert.deepEqual(await copying, { received: 3, tooLong: false, aborted: true });
    assert.ok(data.destroyed, "the sender is ended, not left waiting");
  });

  it("reads nothing when the signal has already aborted", async () => {
    const out = collector();
    const t = await copyAtMost(chunks("abc"), 3, out.write, null, AbortSignal.abort());
    assert.deepEqual(t, { received: 0, tooLong: false, aborted: true });
    assert.equal(out.bytes().length, 0);
  });

  it("ends as aborted when a write fails (the destination knows why)", async () => {
    const t = await copyAtMost(
      chunks("ab", "cd"),
      4,
      async () => {
        throw new Error("disk full");
      },
      null,
    );
    assert.deepEqual(t, { received: 0, tooLong: false, aborted: true });
  });
});
