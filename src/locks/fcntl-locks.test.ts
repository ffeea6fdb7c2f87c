import assert from "node:assert/strict";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FcntlLockError, FcntlLocks } from "./index.js";

// Two FcntlLocks are two helper processes: fcntl locks conflict between them
// as between annexgate and git-annex.
describe("FcntlLocks", () => {
  let dir: string;
  const a = new FcntlLocks();
  const b = new FcntlLocks();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "annexgate-fcntl-"));
  });
  after(async () => {
    a.close();
    b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("shared locks coexist across processes; exclusive excludes both ways", async () => {
    const f = join(dir, "one.lck");
    const s1 = await a.tryLock(f, "shared");
    const s2 = await b.tryLock(f, "shared");
    assert.ok(s1 && s2);
    assert.equal(await b.tryLock(join(dir, "one.lck"), "exclusive"), null);
    await s2.release();
    assert.equal(await b.tryLock(f, "exclusive"), null, "a's shared lock still holds");
    await s1.release();
    const x = await b.tryLock(f, "exclusive");
    assert.ok(x);
    assert.equal(await a.tryLock(f, "shared"), null);
    assert.equal(await a.tryLock(f, "exclusive"), null);
    await x.release();
    const again = await a.tryLock(f, "exclusive");
    assert.ok(again);
    await again.release();
  });

  it("sees another process's write lock, not its read lock, and follows a replaced file", async () => {
    const f = join(dir, "journal.lck");
    assert.equal(await a.isWriteLocked(f), false, "a missing file is not locked");
    const shared = await b.tryLock(f, "shared");
    assert.ok(shared);
    assert.equal(await a.isWriteLocked(f), false, "a read lock is not a write lock");
    await shared.release();
    const held = await b.tryLock(f, "exclusive");
    assert.ok(held);
    // Asked together, while one question is in flight: one answer for both.
    const [x, y] = await Promise.all([a.isWriteLocked(f), a.isWriteLocked(f)]);
    assert.deepEqual([x, y], [true, true]);
    await held.release();
    assert.equal(await a.isWriteLocked(f), false);
    // A new file at the path is looked at, not the old one.
    await rm(f);
    const renewed = await b.tryLock(f, "exclusive");
    assert.ok(renewed);
    assert.equal(await a.isWriteLocked(f), true);
    await renewed.release();
    await assert.rejects(a.isWriteLocked(join(dir, "bad\nname")), FcntlLockError);
  });

  it("refuses to look at a file it locks itself, and never drops that lock by looking", async () => {
    const f = join(dir, "mine.lck");
    const mine = await a.tryLock(f, "exclusive");
    assert.ok(mine);
    await assert.rejects(a.isWriteLocked(f), FcntlLockError);
    // The locked file moves away and a new one takes its path: looking at
    // the new one must not release the lock on the old one.
    await rename(f, join(dir, "mine.old"));
    await writeFile(f, "");
    assert.equal(await a.isWriteLocked(f), false);
    assert.equal(await b.tryLock(join(dir, "mine.old"), "shared"), null, "a's lock still holds");
    await mine.release();
    const now = await b.tryLock(join(dir, "mine.old"), "exclusive");
    assert.ok(now, "released, it is free");
    await now.release();
  });

  it("refuses a lock on a file that is gone from its path, and reports open errors", async () => {
    await assert.rejects(a.tryLock(join(dir, "no such dir", "x.lck"), "shared"), (e) => {
      assert.ok(e instanceof FcntlLockError);
      assert.equal(typeof e.data.errno, "number");
      return true;
    });
    await assert.rejects(a.tryLock(join(dir, "bad\nname"), "shared"), FcntlLockError);
  });

  it("a helper that dies loses its locks, says so, and a new one starts", async () => {
    const lost: string[][] = [];
    let told!: () => void;
    const toldP = new Promise<void>((r) => {
      told = r;
    });
    const c = new FcntlLocks({
      onLost: (paths) => {
        lost.push([...paths]);
        told();
      },
    });
    try {
      const f = join(dir, "dies.lck");
      const held = await c.tryLock(f, "shared");
      assert.ok(held);
      assert.equal(await b.tryLock(f, "exclusive"), null);
      const pid = c.helperPid();
      assert.ok(pid);
      process.kill(pid, "SIGKILL");
      // The helper is unreferenced (it must not keep a process alive), so
      // a bounded timer keeps this test's event loop going meanwhile.
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([
        toldP,
        new Promise((_, reject) => {
          guard = setTimeout(() => reject(new Error("no word of the lost locks")), 30_000);
        }),
      ]);
      clearTimeout(guard);
      assert.deepEqual(lost, [[f]]);
      assert.equal(held.lost, true);
      await held.release(); // harmless
      const x = await b.tryLock(f, "exclusive");
      assert.ok(x, "the dead helper's lock still held");
      await x.release();
      const fresh = await c.tryLock(f, "exclusive");
      assert.ok(fresh, "no new helper");
      assert.notEqual(c.helperPid(), pid);
      await fresh.release();
    } finally {
      c.close();
    }
  });

  it("fails closed when perl cannot be run", async () => {
    const c = new FcntlLocks({ perl: join(dir, "no-perl-here") });
    await assert.rejects(c.tryLock(join(dir, "p.lck"), "shared"), FcntlLockError);
    c.close();
  });

  it("does not start a failing helper again for every lock question", async () => {
    // A "perl" that counts its starts and dies, as one without a usable
    // struct flock layout does.
    const perl = join(dir, "dying-perl");
    const starts = join(dir, "starts");
    await writeFile(perl, `#!/bin/sh\necho x >> '${starts}'\nexit 1\n`, { mode: 0o755 });
    const c = new FcntlLocks({ perl });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(c.isWriteLocked(join(dir, "q.lck")), FcntlLockError);
    }
    assert.equal((await readFile(starts, "utf8")).split("\n").filter((l) => l !== "").length, 1);
    c.close();
  });
});
