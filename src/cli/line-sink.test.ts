import assert from "node:assert/strict";
import { constants, openSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { LineSink } from "./line-sink.js";

describe("LineSink on a pipe nobody reads", () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir("annexgate-line-sink-");
  });
  after(() => removeDir(dir));

  it("never holds up the caller, drops whole lines past its bound, and says how many", async () => {
    const fifo = join(dir, "fifo");
    await run("mkfifo", [fifo]);
    // The reading end is opened first (without blocking), the writing end
    // then, as stderr is: blocking, so a write waits while nobody reads.
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    const sink = new LineSink(writeFd, (n) => `dropped ${n}\n`, 256 * 1024);
    const line = (i: number) => `line ${i} ${"x".repeat(1000)}\n`;
    const N = 2000; // 2 MB: far more than the pipe (64 KiB) and the bound hold
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      sink.write(line(i));
      // Turns of the event loop go by: the flushes run, and cannot block it.
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.ok(performance.now() - started < 10_000, "the writes did not wait on the reader");
    assert.ok(sink.dropped > 0, "lines past the bound were dropped");
    const dropped = sink.dropped;

    // Now read: everything queued comes out, whole lines only, then the note.
    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    let text = "";
    reader.setEncoding("utf8");
    const noted = new Promise<void>((resolve) => {
      reader.on("data", (d: string) => {
        text += d;
        if (text.includes("dropped ")) resolve();
      });
    });
    // The note goes out with the next line written after the pipe moved.
    await new Promise((r) => setTimeout(r, 0));
    sink.write(line(N));
    await noted;
    for (let i = 0; i < 1000 && !text.endsWith(line(N)); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    reader.destroy();
    const lines = text.split("\n").filter((l) => l !== "");
    for (const l of lines) assert.match(l, /^(line \d+ x{1000}|dropped \d+)$/, "a whole line");
    assert.ok(lines.includes(`dropped ${dropped}`), `the note says ${dropped}`);
    assert.equal(lines.length, N - dropped + 2, "every line kept, the note, the last line");
  });
});
