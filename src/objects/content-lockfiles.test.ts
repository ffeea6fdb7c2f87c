import assert from "node:assert/strict";
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { FcntlLocks } from "../locks/index.js";
import { AnnexContentLockFiles, type SharedContentLock } from "./index.js";

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

// `here` and `there` stand for two processes (two lock helpers), as
// annexgate and a stock git-annex in one repository are.
describe("AnnexContentLockFiles", () => {
  const helpers = [new FcntlLocks(), new FcntlLocks()] as const;
  const here = new AnnexContentLockFiles(helpers[0]);
  const there = new AnnexContentLockFiles(helpers[1]);
  let root: string;
  let object: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "annexgate-content-lock-"));
    const keyDir = join(root, "objects", "ab", "cd", "KEY");
    await mkdir(keyDir, { recursive: true });
    object = join(keyDir, "KEY");
    await writeFile(object, "content");
    await chmod(object, 0o444);
    await chmod(keyDir, 0o555); // frozen, as git-annex leaves it
  });
  after(async () => {
    for (const h of helpers) h.close();
  });

  const removeObject = async () => {
    await chmod(join(object, ".."), 0o755);
    await rm(object);
    return "removed";
  };

  it("a shared lock refuses removal elsewhere; release deletes the lock file", async () => {
    const lock = await here.lockShared(object);
    assert.ok(lock);
    assert.ok(await exists(`${object}.lck`));
    assert.ok(await exists(`${object}.rtm`));
    await rm(`${object}.rtm`, { force: true }); // leave only the fcntl lock
    assert.equal(await there.whileRemoving(object, removeObject), null);
    assert.ok(await exists(object));
    await lock.release();
    assert.equal(await exists(`${object}.lck`), false);
    assert.equal(await there.whileRemoving(object, removeObject), "removed");
    assert.equal(await exists(`${object}.lck`), false);
    await rm(root, { recursive: true, force: true });
  });

  /** Retention aside, `remover` cannot remove the object until `last` lets go; then it can. */
  async function removableOnlyAfter(
    last: SharedContentLock,
    remover: AnnexContentLockFiles,
  ): Promise<void> {
    await rm(`${object}.rtm`, { force: true });
    assert.equal(await remover.whileRemoving(object, removeObject), null);
    await last.release();
    assert.equal(await remover.whileRemoving(object, removeObject), "removed");
  }

  it("holders in one process share one lock; the last release lets go", async () => {
    const one = await here.lockShared(object);
    const two = await here.lockShared(object);
    assert.ok(one && two);
    assert.equal(await here.whileRemoving(object, removeObject), null, "own process removed");
    await one.release();
    await removableOnlyAfter(two, there);
    await rm(root, { recursive: true, force: true });
  });

  it("another process's shared lock is kept when this one releases", async () => {
    const mine = await here.lockShared(object);
    const theirs = await there.lockShared(object);
    assert.ok(mine && theirs);
    await mine.release();
    assert.ok(await exists(`${object}.lck`), "deleted a lock file another process holds");
    await removableOnlyAfter(theirs, here);
    await rm(root, { recursive: true, force: true });
  });

  it("a removal lock refuses shared locks elsewhere while it runs", async () => {
    const seen = await here.whileRemoving(object, async () => {
      return there.lockShared(object);
    });
    assert.equal(seen, null);
    await rm(root, { recursive: true, force: true });
  });

  it("honours git-annex's retention timestamp: future refuses, past is tidied", async () => {
    await chmod(join(object, ".."), 0o755);
    await writeFile(`${object}.rtm`, `${Math.floor(Date.now() / 1000) + 600}.5s`);
    assert.equal(await here.whileRemoving(object, removeObject), null);
    await writeFile(`${object}.rtm`, `${Math.floor(Date.now() / 1000) - 600}s`);
    assert.equal(await here.whileRemoving(object, removeObject), "removed");
    assert.equal(await exists(`${object}.rtm`), false);
    await rm(root, { recursive: true, force: true });
  });

  it("no lock on content whose directory is not there", async () => {
    assert.equal(await here.lockShared(join(root, "objects", "zz", "KEY2", "KEY2")), null);
    await rm(root, { recursive: true, force: true });
  });
});
