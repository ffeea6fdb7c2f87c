import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { BatchedFileWriter } from "./batched-writer.js";
import { copyUpload } from "./copy-upload.js";

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

  it("gives its share back when a write fails mid-upload (copyUpload flushes it)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "annexgate-batched-"));
    try {
      const file = join(dir, "f");
      await writeFile(file, "");
      // Four writers open: each gets a quarter of the budget, so a fifth
      // that never gave its share back would show.
      const others = await open(join(dir, "others"), "w");
      const open4 = Array.from({ length: 4 }, () => new BatchedFileWriter(others, 0));
      const before = BatchedFileWriter.batchLimit;
      // Opened for reading only: every write fails (EBADF), as a full disk would.
      const fh = await open(file, "r");
      const chunks = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
      try {
        await assert.rejects(
          copyUpload(
            new BatchedFileWriter(fh, 0),
            Readable.from(chunks),
            64 * 64 * 1024,
            null,
            undefined,
          ),
          (e: NodeJS.ErrnoException) => e.code === "EBADF",
        );
      } finally {
        await fh.close();
      }
      assert.equal(BatchedFileWriter.batchLimit, before, "the failed writer still counts as open");
      for (const w of open4) await w.flush();
      await others.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
