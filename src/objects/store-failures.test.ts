/**
 * The object store answers "absent", "removed" or "aborted" only when that
 * is what happened: a failure of the disk (here a path component that is a
 * regular file, and a temp file that is the always-full device) is thrown
 * as an ObjectStoreError whose message names no path. Also: a layout other
 * than a repository's (objects at the top of a directory, as a directory
 * special remote keeps them).
 */
import assert from "node:assert/strict";
import { mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../test/helpers/index.js";
import { hashDirLower, type Key, keyFile } from "../keys/index.js";
import { type ObjectLayout, ObjectStore, ObjectStoreError, repositoryLayout } from "./index.js";
import { content, exists, sha256eKey, storePerTest } from "./store.fixture.js";

/** Asserts `p` rejects with an ObjectStoreError for errno `code`, naming no path of `dir`. */
async function rejectsWith(p: Promise<unknown>, code: string, dir: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ObjectStoreError, `an ObjectStoreError, not ${String(e)}`);
    assert.equal(e.code, "AG_OBJECT_STORE");
    assert.equal(e.data.code, code);
    assert.ok(!e.message.includes(dir), `no server path in "${e.message}"`);
    return true;
  });
}

describe("ObjectStore failures of the disk", () => {
  let dir: string;
  let annex: string;
  let store: ObjectStore;

  storePerTest("annexgate-store-fail-", (s) => {
    ({ dir, annex, store } = s);
  });

  /** Makes the first hash directory of `key`'s object a regular file. */
  async function blockHashDir(key: Key): Promise<void> {
    const first = relative(store.layout.objectsDir, store.objectFile(key)).split("/")[0] ?? "";
    await mkdir(store.layout.objectsDir, { recursive: true });
    await writeFile(join(store.layout.objectsDir, first), "not a directory");
  }

  it("a hash directory that is a file is not 'absent' and not 'removed'", async () => {
    const key = sha256eKey(content(100));
    // Before: absent, and removing answers true.
    assert.equal(await store.has(key), false);
    assert.equal(await store.remove(key), true);
    await blockHashDir(key);
    await rejectsWith(store.size(key), "ENOTDIR", dir);
    await rejectsWith(store.has(key), "ENOTDIR", dir);
    await rejectsWith(store.remove(key), "ENOTDIR", dir);
    await rejectsWith(store.read(key, 0), "ENOTDIR", dir);
  });

  it("a temp directory that is a file fails a receive, which is not 'aborted'", async () => {
    const data = content(1000);
    const key = sha256eKey(data);
    await mkdir(annex, { recursive: true });
    await writeFile(store.layout.tmpDir, "not a directory");
    await rejectsWith(store.tmpSize(key), "ENOTDIR", dir);
    await rejectsWith(store.discardTmp(key), "ENOTDIR", dir);
    await assert.rejects(
      store.receive(key, 0, data.length, Readable.from([data])),
      ObjectStoreError,
    );
    assert.equal(await store.has(key), false);
  });

  it("a disk full during an upload is thrown, not answered 'aborted'", async () => {
    // Every write to the full device fails with ENOSPC, even for root.
    const data = content(300_000);
    const key = sha256eKey(data);
    await mkdir(store.layout.tmpDir, { recursive: true });
    await symlink("/dev/full", store.tmpFile(key));
    const source = Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]);
    await rejectsWith(store.receive(key, 0, data.length, source), "ENOSPC", dir);
    assert.equal(source.destroyed, true, "no more is read from the sender");
    assert.equal(await store.has(key), false);
  });

  it("a store whose directory is gone refuses, and creates nothing", async () => {
    const gone = new ObjectStore(repositoryLayout(join(dir, "moved", ".git", "annex"), "mixed"));
    const data = content(10);
    await assert.rejects(
      gone.receive(sha256eKey(data), 0, data.length, Readable.from([data])),
      (e: unknown) =>
        e instanceof ObjectStoreError &&
        /directory is gone/.test(e.message) &&
        !e.message.includes(dir),
    );
    assert.equal(await exists(join(dir, "moved")), false);
  });
});

describe("ObjectStore with another layout", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir("annexgate-store-layout-");
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it("keeps objects at the top of a directory, lower-case hashed, and tidies no further", async () => {
    const top = join(dir, "remote");
    await mkdir(top);
    const layout: ObjectLayout = {
      objectsDir: top,
      hashing: "lower",
      tmpDir: join(top, "tmp"),
      home: top,
    };
    const s = new ObjectStore(layout);
    const data = content(5000, 3);
    const key = sha256eKey(data);
    assert.deepEqual(await s.receive(key, 0, 5000, Readable.from([data.subarray(0, 1000)])), {
      ok: false,
      reason: "short",
    });
    assert.equal(await exists(join(top, "tmp", keyFile(key))), true);
    assert.deepEqual(await s.receive(key, 1000, 4000, Readable.from([data.subarray(1000)])), {
      ok: true,
    });
    const kf = keyFile(key);
    assert.equal(relative(top, s.objectFile(key)), `${hashDirLower(key)}/${kf}/${kf}`);
    assert.equal(await s.size(key), data.length);
    assert.equal(await s.remove(key), true);
    assert.equal(await exists(top), true);
    assert.deepEqual(await readdir(top), ["tmp"]);
    await rm(join(top, "tmp"), { recursive: true });
    assert.equal(await s.has(key), false);
  });
});
