import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BatchedFileWriter } from "./batched-writer.js";

describe("BatchedFileWriter", () => {
  it("writes every chunk in order, from its position, by the time flush returns", async () => {
    const dir = await mkdtemp(join(tmpdir(), "annexgate-batched-"));
    try {
      const file = join(dir, "f");
      const fh = await open(file, "w+");
      await fh.write(Buffer.from("head"), 0, 4, 0);
      const w = new BatchedFileWriter(fh, 4);
      const chunks = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 997));
      for (const c of chunks) await w.add(c);
      await w.flush();
      await fh.close();
      assert.deepEqual(await readFile(file), Buffer.concat([Buffer.from("head"), ...chunks]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("shares its batch size among the writers open at once, and gives it back at flush", async () => {
    const dir = await mkdtemp(join(tmpdir(), "annexgate-batched-"));
    try {
      const alone = BatchedFileWriter.batchLimit;
      const fhs = await Promise.all(
        Array.from({ length: 16 }, (_, i) => open(join(dir, `f${i}`), "w")),
      );
      const writers = fhs.map((fh) => new BatchedFileWriter(fh, 0));
      const many = BatchedFileWriter.batchLimit;
      assert.ok(many < alone, `${many} with 16 open, ${alone} before`);
      assert.equal(many, 256 * 1024);
      for (const w of writers) await w.flush();
      // A second flush does not give back what the first did: 16 new
      // writers (15 were it counted twice) share it as before.
      await writers[0]?.flush();
      assert.equal(BatchedFileWriter.batchLimit, alone);
      const again = fhs.map((fh) => new BatchedFileWriter(fh, 0));
      assert.equal(BatchedFileWriter.batchLimit, many);
      for (const w of again) await w.flush();
      await Promise.all(fhs.map((fh) => fh.close()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
