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

    // Now read: whole lines only, and notes that account for every line not
    // written. (How much the pipe takes before a write blocks is the
    // kernel's business, so a note may also have gone out during the loop.)
    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    let text = "";
    reader.setEncoding("utf8");
    const account = () => {
      const lines = text.split("\n").filter((l) => l !== "");
      const notes = lines.filter((l) => l.startsWith("dropped "));
      const noted = notes.reduce((sum, l) => sum + Number(l.slice("dropped ".length)), 0);
      return { lines, notes, noted, kept: lines.length - notes.length };
    };
    let waiting: { until: () => boolean; resolve: () => void } | undefined;
    const seen = (until: () => boolean) =>
      new Promise<void>((resolve) => {
        if (until()) resolve();
        else waiting = { until, resolve };
      });
    reader.on("data", (d: string) => {
      text += d;
      if (waiting?.until()) waiting.resolve();
    });
    // Everything queued goes out once the stuck write is through, the last
    // note with it; only then is the next line written (while the queue is
    // still full it would be dropped too).
    await seen(() => text.endsWith("\n") && account().noted + account().kept === N);
    sink.write(line(N));
    await seen(() => text.endsWith(line(N)));
    reader.destroy();
    const { lines, notes, kept } = account();
    for (const l of lines) assert.match(l, /^(line \d+ x{1000}|dropped \d+)$/, "a whole line");
    assert.ok(notes.length >= 1, "a note says how many were dropped");
    const numbers = lines.filter((l) => l.startsWith("line ")).map((l) => Number(l.split(" ")[1]));
    assert.deepEqual(
      numbers,
      [...numbers].sort((x, y) => x - y),
      "the lines kept come in the order written",
    );
    assert.equal(kept, N - account().noted + 1, "every line kept or counted, and the last line");
  });
});
