import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LockFiles } from "./lockfiles.js";

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

describe("LockFiles (content locks shared between processes)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "annexgate-lockfiles-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a lock taken by one holder stops a removal by another, until released", async () => {
    const a = new LockFiles(dir);
    const b = new LockFiles(dir);
    const lock = a.acquire("K1");
    assert.ok(lock);
    let ran = false;
    assert.equal(
      await b.whileRemoving("K1", async () => {
        ran = true;
        return true;
      }),
      null,
    );
    assert.equal(ran, false);
    lock.release();
    assert.equal(await b.whileRemoving("K1", async () => true), true);
  });

  test("no lock can be taken while a removal runs", async () => {
    const a = new LockFiles(dir);
    const b = new LockFiles(dir);
    const result = await a.whileRemoving("K2", async () => {
      assert.equal(b.acquire("K2"), null);
      return "removed";
    });
    assert.equal(result, "removed");
    const after = b.acquire("K2");
    assert.ok(after, "locking works again once the removal is over");
    after.release();
  });

  test("locks of dead processes and expired locks do not count, and are tidied", async () => {
    const keyDir = join(dir, "K3");
    mkdirSync(keyDir, { recursive: true });
    writeFileSync(join(keyDir, `${deadPid()}-x.lock`), "pinned");
    writeFileSync(join(keyDir, `${process.pid}-y.lock`), String(Date.now() - 1));
    assert.equal(await new LockFiles(dir).whileRemoving("K3", async () => true), true);
    assert.deepEqual(readdirSync(keyDir), []);
  });

  test("a removal marker left by a dead process does not block forever", async () => {
    const keyDir = join(dir, "K4");
    mkdirSync(keyDir, { recursive: true });
    writeFileSync(join(keyDir, "removing"), String(deadPid()));
    const files = new LockFiles(dir);
    const lock = files.acquire("K4");
    assert.ok(lock, "a stale marker does not stop locking");
    lock.release();
    assert.equal(await files.whileRemoving("K4", async () => true), true);
  });

  test("a kept (pinned) lock outlives its retention", async () => {
    const files = new LockFiles(dir, 1);
    const lock = files.acquire("K5");
    assert.ok(lock);
    lock.keep();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await files.whileRemoving("K5", async () => true), null);
    lock.release();
  });
});
