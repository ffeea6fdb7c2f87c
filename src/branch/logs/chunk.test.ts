import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { parseKey } from "../../keys/index.js";
import { newAnnexBranch } from "../branch.fixture.js";
import type { AnnexBranch } from "../branch.js";
import { arbRepositoryLog, checkRoundTrip } from "./arbitraries.test.js";
import {
  chunkListings,
  chunkLogPath,
  formatChunkLog,
  parseChunkLog,
  readChunkListings,
  recordChunks,
} from "./chunk.js";

const U = "623f9485-0b6b-4a37-9ac2-73df93c70b6b";
const V = "33d226dd-6f27-4505-9174-07ad5703d5a0";
const BIG = "SHA256E-s200000--2b30292b15c56e8aff12d8f4bdd46b283bb4dcf8ee6dd5d832028f2589766e90";

describe("chunk log (.log.cnk)", () => {
  it("lives where stock git-annex 10.20250416 put it, named for the whole key", () => {
    // Paths from a stock `git annex copy --to` a directory remote with chunk=64KiB.
    const path = `8fa/341/${BIG}.log.cnk`;
    assert.equal(chunkLogPath(parseKey(BIG)), path);
    const chunk = BIG.replace("-s200000--", "-s200000-S65536-C2--");
    assert.equal(chunkLogPath(parseKey(chunk)), path);
  });

  it("reads and writes back byte-exact the lines stock wrote on store and on drop", () => {
    for (const text of [`1796528809s ${U}:65536 4\n`, `1796528812s ${U}:65536 0\n`]) {
      assert.equal(formatChunkLog(parseChunkLog(text)), text);
    }
    assert.deepEqual(chunkListings(parseChunkLog(`1796528809s ${U}:65536 4\n`), U), [
      { chunkSize: 65536, count: 4 },
    ]);
    // Removed chunks (count 0) are not listed.
    assert.deepEqual(chunkListings(parseChunkLog(`1796528812s ${U}:65536 0\n`), U), []);
  });

  it("keeps one entry per remote and chunk size, the newest winning, and skips what stock skips", () => {
    const text = [
      `1700000002s ${U}:1048576 3`,
      `1700000001s ${U}:65536 4`,
      `1700000005s ${U}:65536 0`,
      `1700000003s ${V}:65536 9`,
      `1700000003s ${U}:weird 2`, // an unknown chunk method: kept, never used
      `1700000003s ${U}:4096 2x`, // not a decimal count
      `1700000003s ${U}:4096 -2`,
      `1700000003s nocolon 2`,
      "garbage",
      "",
    ].join("\n");
    const log = parseChunkLog(text);
    assert.deepEqual([...log.keys()].sort(), [
      `${V}:65536`,
      `${U}:1048576`,
      `${U}:65536`,
      `${U}:weird`,
    ]);
    assert.deepEqual(chunkListings(log, U), [{ chunkSize: 1048576, count: 3 }]);
    assert.deepEqual(chunkListings(log, V), [{ chunkSize: 65536, count: 9 }]);
  });

  it("round-trip: parse(format(log)) = log", () => {
    const fields = fc
      .tuple(fc.uuid(), fc.integer({ min: 1, max: 2 ** 40 }))
      .map(([u, s]) => `${u}:${s}`);
    const logs = arbRepositoryLog(fc.bigInt({ min: 0n, max: 10n ** 12n })).chain((base) =>
      fc.array(fields, { minLength: base.size, maxLength: base.size }).map((names) => {
        const out = new Map();
        [...base.values()].forEach((e, i) => {
          out.set(names[i] as string, e);
        });
        return out;
      }),
    );
    checkRoundTrip(logs, parseChunkLog, formatChunkLog);
  });

  describe("on a branch", () => {
    let dir: string;
    let branch: AnnexBranch;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "chunk-log-"));
      ({ branch } = await newAnnexBranch(join(dir, "r"), V, "r"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("records stored chunks, then their removal, as stock's chunksStored and chunksRemoved", async () => {
      const key = parseKey(BIG);
      await recordChunks(branch, U, key, 65536, 4);
      assert.deepEqual(await readChunkListings(branch, U, key), [{ chunkSize: 65536, count: 4 }]);
      assert.match(await branch.read(chunkLogPath(key)), new RegExp(`^\\d+s ${U}:65536 4\\n$`));
      await recordChunks(branch, U, key, 65536, 0);
      assert.deepEqual(await readChunkListings(branch, U, key), []);
      assert.match(await branch.read(chunkLogPath(key)), new RegExp(`^\\d+s ${U}:65536 0\\n$`));
      await assert.rejects(recordChunks(branch, "bad uuid", key, 65536, 1));
    });
  });
});
