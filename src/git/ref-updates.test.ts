import assert from "node:assert/strict";
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { Git, GitError } from "./index.js";
import { RefUpdates } from "./ref-updates.js";

let tmp: string;
before(async () => {
  tmp = await realpath(await makeTempDir());
});
after(async () => {
  await removeDir(tmp);
});

async function repo(name: string): Promise<{ git: Git; dir: string; c: string[] }> {
  const dir = join(tmp, name);
  await run("git", ["init", "-q", dir]);
  const c: string[] = [];
  for (const m of ["one", "two", "three"]) {
    await run("git", ["commit", "-q", "--allow-empty", "-m", m], { cwd: dir });
    c.push((await run("git", ["rev-parse", "HEAD"], { cwd: dir })).trim());
  }
  return { git: await Git.open(dir), dir, c };
}

const REF = "refs/heads/git-annex";

describe("RefUpdates", () => {
  it("creates and moves a ref by compare-and-swap, with its reason in the reflog", async () => {
    const { git, dir, c } = await repo("cas");
    const updates = new RefUpdates(git, "git-annex branch update");
    try {
      assert.equal(await updates.update(REF, c[0] as string, c[1] as string), false);
      assert.equal(await git.revParse(REF), null);
      assert.equal(await updates.update(REF, c[0] as string, null), true);
      assert.equal(await updates.update(REF, c[1] as string, null), false);
      assert.equal(await updates.update(REF, c[1] as string, c[0] as string), true);
      // Lost races in a row, then a win: each failure's process is replaced.
      assert.equal(await updates.update(REF, c[2] as string, c[0] as string), false);
      assert.equal(await updates.update(REF, c[2] as string, c[0] as string), false);
      // Moved by someone else meanwhile: seen.
      await run("git", ["update-ref", REF, c[0] as string], { cwd: dir });
      assert.equal(await updates.update(REF, c[2] as string, c[1] as string), false);
      assert.equal(await updates.update(REF, c[2] as string, c[0] as string), true);
      assert.equal(await git.revParse(REF), c[2]);
      const log = await run("git", ["reflog", "show", "--format=%gs", REF], { cwd: dir });
      assert.equal(log.split("\n")[0], "git-annex branch update");
    } finally {
      await updates.close();
    }
  });

  it("runs concurrent updates one after another", async () => {
    const { git, c } = await repo("concurrent");
    const updates = new RefUpdates(git, "update");
    try {
      assert.equal(await updates.update(REF, c[0] as string, null), true);
      const results = await Promise.all([
        updates.update(REF, c[1] as string, c[0] as string),
        updates.update(REF, c[2] as string, c[1] as string),
        updates.update(REF, c[0] as string, c[1] as string),
      ]);
      assert.deepEqual(results, [true, true, false]);
      assert.equal(await git.revParse(REF), c[2]);
    } finally {
      await updates.close();
    }
  });

  it("reports a failure that is not a lost race, and works on after close", async () => {
    const { git, c } = await repo("failure");
    const updates = new RefUpdates(git, "update");
    await assert.rejects(updates.update(REF, "1".repeat(40), null), GitError);
    assert.equal(await git.revParse(REF), null);
    assert.equal(await updates.update(REF, c[0] as string, null), true);
    await updates.close();
    assert.equal(await updates.update(REF, c[1] as string, c[0] as string), true);
    assert.equal(await git.revParse(REF), c[1]);
  });
});
