import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LockFiles, processStart } from "./lockfiles.js";

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

/** A live process of our own (it waits on its stdin until the test ends it). */
async function liveChild(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ["-e", "process.stdin.resume()"], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  await once(child, "spawn");
  if (child.pid === undefined) throw new Error("no pid for the child process");
  return child as ChildProcess & { pid: number };
}

async function endChild(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.stdin?.end();
  await exited;
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

  test("a lock whose PID now belongs to another process (reused after a crash) is stale", async () => {
    const start = processStart(process.pid);
    assert.ok(start, "this test needs /proc (Linux) to read process start times");
    const child = await liveChild();
    try {
      const keyDir = join(dir, "K6");
      mkdirSync(keyDir, { recursive: true });
      // As a crashed holder leaves it: the PID is alive again (reused), but
      // the process behind it started at another time.
      const [ticks, boot] = start.split(".");
      const crashed = `${child.pid}_${Number(ticks) + 1}.${boot}`;
      writeFileSync(join(keyDir, `${crashed}-x.lock`), "pinned");
      writeFileSync(join(keyDir, "removing"), crashed);
      const files = new LockFiles(dir);
      const lock = files.acquire("K6");
      assert.ok(lock, "a reused PID's removal marker does not stop locking");
      lock.release();
      assert.equal(await files.whileRemoving("K6", async () => "removed"), "removed");
      assert.deepEqual(readdirSync(keyDir), [], "the stale lock was tidied");
    } finally {
      await endChild(child);
    }
  });

  test("a lock of a live holder in another process is honoured", async () => {
    const child = await liveChild();
    try {
      const keyDir = join(dir, "K7");
      mkdirSync(keyDir, { recursive: true });
      const start = processStart(child.pid);
      const holder = start === null ? String(child.pid) : `${child.pid}_${start}`;
      writeFileSync(join(keyDir, `${holder}-y.lock`), "pinned");
      const files = new LockFiles(dir);
      assert.equal(await files.whileRemoving("K7", async () => "removed"), null);
      assert.equal(readdirSync(keyDir).length, 1, "the live lock stays");
    } finally {
      await endChild(child);
    }
    // Once the holder has exited, its lock no longer counts.
    assert.equal(await new LockFiles(dir).whileRemoving("K7", async () => "removed"), "removed");
  });
});
