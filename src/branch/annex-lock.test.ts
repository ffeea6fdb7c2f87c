import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { isWriteLocked, isWriteLockedInProcLocks, waitUnlocked } from "./annex-lock.js";

const canLock =
  existsSync("/proc/locks") &&
  (await run("python3", ["-c", "import fcntl"]).then(
    () => true,
    () => false,
  ));

let tmp: string;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

describe("seeing git-annex's fcntl journal lock", () => {
  it("is not locked when the file is missing or unlocked", async () => {
    assert.equal(await isWriteLocked(join(tmp, "missing.lck")), false);
    await writeFile(join(tmp, "free.lck"), "");
    assert.equal(await isWriteLocked(join(tmp, "free.lck")), false);
    assert.equal(await waitUnlocked(join(tmp, "free.lck"), 10), true);
    assert.equal(isWriteLockedInProcLocks(join(tmp, "missing.lck")), false);
    assert.equal(isWriteLockedInProcLocks(join(tmp, "free.lck")), false);
  });

  it("sees a POSIX write lock another process holds", {
    skip: canLock ? false : "needs /proc/locks and python3",
  }, async () => {
    const file = join(tmp, "journal.lck");
    await writeFile(file, "");
    // Holds an exclusive fcntl lock (as git-annex's lockExclusive does) until stdin closes.
    const holder = spawn("python3", [
      "-c",
      "import fcntl,sys; f=open(sys.argv[1],'r+'); fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
      file,
    ]);
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    try {
      assert.equal(await isWriteLocked(file), true);
      assert.equal(isWriteLockedInProcLocks(file), true, "the fallback sees it too");
      assert.equal(await waitUnlocked(file, 30), false);
      const waiting = waitUnlocked(file, 5000);
      holder.stdin.end();
      assert.equal(await waiting, true);
    } finally {
      holder.kill();
    }
  });
});
