import assert from "node:assert/strict";
import { mkdir, realpath, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { Git } from "./index.js";
import { RefFiles, UNKNOWN } from "./refs.js";

let tmp: string;
before(async () => {
  tmp = await realpath(await makeTempDir());
});
after(async () => {
  await removeDir(tmp);
});

async function repoWithCommits(name: string): Promise<{ dir: string; git: Git; c: string[] }> {
  const dir = join(tmp, name);
  await run("git", ["init", "-q", "-b", "master", dir]);
  const c: string[] = [];
  for (const m of ["one", "two", "three"]) {
    await run("git", ["commit", "-q", "--allow-empty", "-m", m], { cwd: dir });
    c.push((await run("git", ["rev-parse", "HEAD"], { cwd: dir })).trim());
  }
  return { dir, git: await Git.open(dir), c };
}

/** What git itself says, for comparison. */
async function forEachRef(dir: string, prefix: string): Promise<string[]> {
  const out = await run("git", ["for-each-ref", "--format=%(objectname) %(refname)", prefix], {
    cwd: dir,
  });
  return out.split("\n").filter((l) => l.endsWith("/git-annex"));
}

const isBranch = (ref: string) => ref.endsWith("/git-annex");

describe("refs read from git's files", () => {
  it("read loose refs, packed refs, and loose over packed, as git does", async () => {
    const { dir, git, c } = await repoWithCommits("loose-packed");
    const files = new RefFiles(git.gitDir);
    const gitSays = async (ref: string) => {
      const out = await run("git", ["for-each-ref", "--format=%(objectname)", ref], { cwd: dir });
      return out.trim() === "" ? null : out.trim();
    };
    const update = (ref: string, sha: string) => run("git", ["update-ref", ref, sha], { cwd: dir });
    await update("refs/heads/git-annex", c[0] as string);
    await update("refs/remotes/origin/git-annex", c[1] as string);
    assert.equal(files.readSync("refs/heads/git-annex"), c[0]);
    await run("git", ["pack-refs", "--all"], { cwd: dir });
    assert.equal(files.readSync("refs/heads/git-annex"), c[0]);
    assert.equal(files.readSync("refs/remotes/origin/git-annex"), c[1]);
    // A loose ref newer than its packed value wins.
    await update("refs/heads/git-annex", c[2] as string);
    assert.equal(files.readSync("refs/heads/git-annex"), await gitSays("refs/heads/git-annex"));
    assert.equal(files.readSync("refs/heads/git-annex"), c[2]);
    // packed-refs rewritten: seen at once.
    await run("git", ["pack-refs", "--all"], { cwd: dir });
    await update("refs/remotes/origin/git-annex", c[0] as string);
    await run("git", ["pack-refs", "--all"], { cwd: dir });
    assert.equal(files.readSync("refs/remotes/origin/git-annex"), c[0]);
    await run("git", ["update-ref", "-d", "refs/remotes/origin/git-annex"], { cwd: dir });
    assert.equal(files.readSync("refs/remotes/origin/git-annex"), null);
    assert.equal(files.readSync("refs/heads/nothing"), null);
    assert.equal(await git.revParse("refs/heads/git-annex"), c[2]);
    assert.equal(await git.revParse("refs/heads/nothing"), null);
  });

  for (const settledMs of [undefined, 0]) {
    it(`see a loose ref replaced many times in quick succession (kept after ${settledMs ?? "the default"} ms)`, async () => {
      const { dir, git, c } = await repoWithCommits(`replaced-${settledMs ?? "default"}`);
      const files = new RefFiles(git.gitDir, settledMs);
      const ref = "refs/heads/git-annex";
      const file = join(git.gitDir, ref);
      await mkdir(join(git.gitDir, "refs", "heads"), { recursive: true });
      // As git writes a ref: a lock file renamed over it, in quick succession.
      for (let i = 0; i < 300; i++) {
        const sha = c[i % 3] as string;
        await writeFile(`${file}.lock`, `${sha}\n`);
        await rename(`${file}.lock`, file);
        // Kept at once, a value is only as safe as the file's times are
        // fine: here each write gets times of its own, as on a filesystem
        // whose timestamp step is finer than these writes.
        if (settledMs === 0) await utimes(file, 1e9 + i, 1e9 + i);
        assert.equal(files.readSync(ref), sha, `write ${i}`);
        assert.equal(files.readSync(ref), sha, `write ${i}, read again`);
      }
      // By git, and gone to packed-refs and back.
      await run("git", ["update-ref", ref, c[1] as string], { cwd: dir });
      assert.equal(files.readSync(ref), c[1]);
      await run("git", ["pack-refs", "--all"], { cwd: dir });
      assert.equal(files.readSync(ref), c[1]);
      await run("git", ["update-ref", ref, c[2] as string], { cwd: dir });
      assert.equal(files.readSync(ref), c[2]);
      await run("git", ["update-ref", "-d", ref], { cwd: dir });
      assert.equal(files.readSync(ref), null);
    });
  }

  it("list refs in for-each-ref's order, loose and packed, a directory of a ref's name included", async () => {
    const { dir, git, c } = await repoWithCommits("list");
    const update = (ref: string, sha: string) => run("git", ["update-ref", ref, sha], { cwd: dir });
    await update("refs/remotes/b/git-annex", c[0] as string);
    await update("refs/remotes/a/x/git-annex", c[1] as string);
    await update("refs/remotes/a/main", c[1] as string);
    await update("refs/heads/synced/git-annex", c[2] as string);
    await update("refs/remotes/m\u00fcller/git-annex", c[2] as string);
    await run("git", ["pack-refs", "--all"], { cwd: dir });
    await update("refs/remotes/a/git-annex", c[2] as string);
    await update("refs/remotes/b/git-annex", c[1] as string);
    for (const prefix of ["refs/remotes/", "refs/heads/synced/", "refs/tags/"]) {
      const listed = (await git.listRefs(prefix, isBranch)).map((r) => `${r.sha} ${r.ref}`);
      assert.deepEqual(listed, await forEachRef(dir, prefix), prefix);
    }
    assert.equal((await git.listRefs("refs/remotes/", isBranch)).length, 4);
    // A loose ref of a name this reader leaves to git.
    await update("refs/remotes/m\u00fcller/git-annex", c[0] as string);
    assert.equal(await new RefFiles(git.gitDir).list("refs/remotes/", isBranch), UNKNOWN);
    const listed = (await git.listRefs("refs/remotes/", isBranch)).map((r) => `${r.sha} ${r.ref}`);
    assert.deepEqual(listed, await forEachRef(dir, "refs/remotes/"));
  });

  it("leave symbolic refs and linked work trees to git", async () => {
    const { dir, git, c } = await repoWithCommits("symbolic");
    await run("git", ["symbolic-ref", "refs/heads/alias", "refs/heads/master"], { cwd: dir });
    const files = new RefFiles(git.gitDir);
    assert.equal(files.readSync("refs/heads/alias"), UNKNOWN);
    assert.equal(await git.revParse("refs/heads/alias"), c[2]);
    const wt = join(tmp, "symbolic-wt");
    await run("git", ["worktree", "add", "-q", "--detach", wt], { cwd: dir });
    const linked = await Git.open(wt);
    assert.equal(new RefFiles(linked.gitDir).readSync("refs/heads/master"), UNKNOWN);
    assert.equal(await linked.revParse("refs/heads/master"), c[2]);
    // A symbolic link among the ref files (a ref kept elsewhere): listed
    // as git lists it, not skipped.
    const heads = join(dir, ".git", "refs", "heads");
    await mkdir(join(heads, "linked"));
    await symlink(join(heads, "master"), join(heads, "linked", "git-annex"));
    assert.equal(await files.list("refs/heads/", isBranch), UNKNOWN);
    const listed = (await git.listRefs("refs/heads/", isBranch)).map((r) => `${r.sha} ${r.ref}`);
    assert.deepEqual(listed, [`${c[2]} refs/heads/linked/git-annex`]);
    assert.deepEqual(listed, await forEachRef(dir, "refs/heads/"));
    await rm(join(heads, "linked"), { recursive: true });
    assert.deepEqual(await linked.listRefs("refs/heads/", () => true), [
      { ref: "refs/heads/alias", sha: c[2] },
      { ref: "refs/heads/master", sha: c[2] },
    ]);
  });

  it("answer unknown for a ref file or packed-refs it does not understand", async () => {
    const { git } = await repoWithCommits("odd");
    await writeFile(join(git.gitDir, "refs", "heads", "odd"), "not a sha\n");
    const files = new RefFiles(git.gitDir);
    assert.equal(files.readSync("refs/heads/odd"), UNKNOWN);
    assert.equal(files.readSync("refs/heads/../config"), UNKNOWN);
    assert.equal(files.readSync("refs/heads/master^{commit}"), UNKNOWN);
    assert.equal(files.readSync("refs/heads/master.lock"), UNKNOWN);
    await writeFile(join(git.gitDir, "packed-refs"), "garbage line\n");
    assert.equal(files.readSync("refs/heads/missing"), UNKNOWN);
  });
});
