import assert from "node:assert/strict";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { writeAllAt } from "./index.js";

describe("writeAllAt", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("writes every buffer, in order, from the position on", async () => {
    const dir = await mkdtemp(join(tmpdir(), "annexgate-write-all-"));
    dirs.push(dir);
    const file = join(dir, "f");
    const fh = await open(file, "w+");
    try {
      await writeAllAt(fh, [Buffer.from("0123456789")], 0);
      const big = Buffer.alloc(3 * 1024 * 1024, "x");
      await writeAllAt(fh, [Buffer.from("ab"), Buffer.alloc(0), big, Buffer.from("cd")], 4);
      await writeAllAt(fh, [], 2);
    } finally {
      await fh.close();
    }
    const got = await readFile(file);
    assert.equal(got.length, 4 + 2 + 3 * 1024 * 1024 + 2);
    assert.equal(got.subarray(0, 6).toString(), "0123ab");
    assert.equal(got.subarray(-3).toString(), "xcd");
  });
});
