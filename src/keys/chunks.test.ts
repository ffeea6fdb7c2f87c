import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { chunkCount, chunkKey, isStableKey } from "./chunks.js";
import { formatKey, parseKey } from "./key.js";

const BIG = "SHA256E-s200000--2b30292b15c56e8aff12d8f4bdd46b283bb4dcf8ee6dd5d832028f2589766e90";

describe("chunk keys", () => {
  it("names chunks byte-exact as stock git-annex named them in a directory remote", () => {
    // The chunk files stock 10.20250416 wrote for a 200000-byte file, chunk=64KiB.
    const names = [1, 2, 3, 4].map((n) => formatKey(chunkKey(parseKey(BIG), 65536, n)));
    assert.deepEqual(
      names,
      [1, 2, 3, 4].map((n) => BIG.replace("-s200000--", `-s200000-S65536-C${n}--`)),
    );
    assert.equal(chunkCount(200000, 65536), 4);
  });

  it("agrees with `git annex examinekey` on a chunk key with every field", async () => {
    const key = chunkKey(parseKey("WORM-s1234-m1700000000--some_file.txt"), 100, 13);
    const { stdout } = await promisify(execFile)("git", [
      "annex",
      "examinekey",
      formatKey(key),
      `--format=${"$"}{key}\n`,
    ]);
    assert.equal(stdout, `${formatKey(key)}\n`);
    assert.equal(formatKey(key), "WORM-s1234-m1700000000-S100-C13--some_file.txt");
  });

  it("counts at least one chunk, so empty content is one empty chunk", () => {
    assert.equal(chunkCount(0, 65536), 1);
    assert.equal(chunkCount(65536, 65536), 1);
    assert.equal(chunkCount(65537, 65536), 2);
  });

  it("chunks stable keys only, as git-annex's isStableKey", () => {
    for (const k of [
      "SHA256E-s1--x.y",
      "SHA1-s1--x",
      "MD5E-s1--x",
      "WORM-s1--x",
      "SKEIN256-s1--x",
    ]) {
      assert.equal(isStableKey(parseKey(k)), true, k);
    }
    for (const k of ["URL--http://x", "VURL-s1--http://x", "XFOO-s1--x", "OTHER-s1--x"]) {
      assert.equal(isStableKey(parseKey(k)), false, k);
    }
  });
});
