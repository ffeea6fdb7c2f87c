/**
 * Receiving holds git-annex's download lock on the key, as a stock
 * receiver does: another process (its own lock helper) sees it held while
 * the upload runs, and a receive of a key another process holds answers
 * busy without touching the temp file.
 */
import assert from "node:assert/strict";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../test/helpers/index.js";
import { type Key, keyFile } from "../keys/index.js";
import { FcntlLocks } from "../locks/index.js";
import { ObjectStore, repositoryLayout } from "./index.js";
import { sha256eKey, uploadUnderWay } from "./store.fixture.js";

describe("ObjectStore and git-annex's download lock", () => {
  let dir: string;
  let store: ObjectStore;
  let other: FcntlLocks;
  const lckOf = (key: Key) =>
    join(dir, ".git", "annex", "transfer", "download", "lck", `lck.${keyFile(key)}`);

  beforeEach(async () => {
    dir = await makeTempDir();
    await mkdir(join(dir, ".git", "annex"), { recursive: true });
    store = new ObjectStore(repositoryLayout(join(dir, ".git", "annex"), "mixed"));
    // Another process: fcntl locks never conflict within one.
    other = new FcntlLocks();
  });

  afterEach(async () => {
    other.close();
    await removeDir(dir);
  });

  it("is held while a receive runs, and removed after", async () => {
    const data = Buffer.alloc(5000, 9);
    const { key, sender, receiving } = await uploadUnderWay(store, data, 100);
    assert.equal(await other.tryLock(lckOf(key), "shared"), null, "held by the receiver");
    sender.end(data.subarray(100));
    assert.deepEqual(await receiving, { ok: true });
    assert.equal(await stat(lckOf(key)).catch(() => null), null, "the lock file is gone");
  });

  it("makes a receive answer busy while another process holds it", async () => {
    const data = Buffer.alloc(300, 4);
    const key = sha256eKey(data);
    await mkdir(join(lckOf(key), ".."), { recursive: true });
    const held = await other.tryLock(lckOf(key), "exclusive");
    assert.ok(held);
    assert.deepEqual(await store.receive(key, 0, data.length, Readable.from([data])), {
      ok: false,
      reason: "busy",
    });
    assert.equal(await store.tmpSize(key), 0, "the temp file was not touched");
    await held.release();
    assert.deepEqual(await store.receive(key, 0, data.length, Readable.from([data])), {
      ok: true,
    });
  });
});
