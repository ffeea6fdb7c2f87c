import assert from "node:assert/strict";
import { mkdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { Git, GitError } from "./index.js";

let tmp: string;
before(async () => {
  tmp = await realpath(await makeTempDir());
});
after(async () => {
  await removeDir(tmp);
});

async function newRepo(name: string, bare = false): Promise<Git> {
  const dir = join(tmp, name);
  await run("git", ["init", "-q", ...(bare ? ["--bare"] : []), dir]);
  return Git.open(dir);
}

describe("Git.open", () => {
  it("finds the work tree top and .git from a subdirectory", async () => {
    await newRepo("plain");
    await mkdir(join(tmp, "plain", "sub"));
    const git = await Git.open(join(tmp, "plain", "sub"));
    assert.equal(git.bare, false);
    assert.equal(git.dir, join(tmp, "plain"));
    assert.equal(git.gitDir, join(tmp, "plain", ".git"));
  });

  it("recognises a bare repository", async () => {
    const git = await newRepo("bare.git", true);
    assert.equal(git.bare, true);
    assert.equal(git.gitDir, join(tmp, "bare.git"));
    assert.equal(git.dir, git.gitDir);
  });

  it("throws GitError outside a repository", async () => {
    const outside = join(tmp, "not-a-repo");
    await mkdir(outside);
    await assert.rejects(
      Git.open(outside),
      (e: unknown) => e instanceof GitError && /not a git/i.test(e.stderr),
    );
  });
});

describe("Git", () => {
  it("run() reports failures with stderr and exit code", async () => {
    const git = await newRepo("run");
    await assert.rejects(git.run(["cat-file", "-p", "no-such-thing"]), (e: unknown) => {
      assert.ok(e instanceof GitError);
      assert.equal(e.code, "AG_GIT");
      assert.equal(e.exitCode, 128);
      assert.match(e.stderr, /no-such-thing/);
      return true;
    });
  });

  it("reads and writes config", async () => {
    const git = await newRepo("config");
    assert.equal(await git.configGet("annex.uuid"), null);
    await git.configSet("annex.uuid", "u-1");
    assert.equal(await git.configGet("annex.uuid"), "u-1");
  });

  it("ignores a GIT_DIR in the environment", async () => {
    const git = await newRepo("envdir");
    const other = await newRepo("envdir-other");
    await other.configSet("test.which", "other");
    await git.configSet("test.which", "mine");
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = other.gitDir;
    try {
      const again = await Git.open(git.dir);
      assert.equal(await again.configGet("test.which"), "mine");
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });

  it("writes blobs, trees and commits, and diffs trees", async () => {
    const git = await newRepo("objects", true);
    const [a, b] = await git.hashObjects(["a\n", Buffer.from("b\n")]);
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(await git.hashObject("a\n"), a);
    const flat = await git.mktree([{ mode: "100644", type: "blob", sha: a, name: "a.txt" }]);
    const nested = await git.editTree(flat, [
      { path: "x/y/b.log", sha: b },
      { path: "a.txt", sha: null },
    ]);
    const listing = (await git.run(["ls-tree", "-r", "--name-only", nested])).toString();
    assert.equal(listing, "x/y/b.log\n");
    const c1 = await git.commitTree({ tree: flat, parents: [], message: "one" });
    const c2 = await git.commitTree({ tree: nested, parents: [c1], message: "two" });
    assert.equal(await git.isAncestor(c1, c2), true);
    assert.equal(await git.isAncestor(c2, c1), false);
    const diffs = await git.diffTrees(c1, c2);
    assert.deepEqual(
      diffs.sort((x, y) => x.path.localeCompare(y.path)),
      [
        { path: "a.txt", oldSha: a, newSha: null },
        { path: "x/y/b.log", oldSha: null, newSha: b },
      ],
    );
    const msg = (await git.run(["cat-file", "commit", c2])).toString();
    assert.match(msg, /\n\ntwo\n$/);
  });

  it("revParse gives null for a missing ref", async () => {
    const git = await newRepo("revparse");
    assert.equal(await git.revParse("refs/heads/nope"), null);
  });

  it("updateRef is a compare-and-swap", async () => {
    const git = await newRepo("cas", true);
    const tree = await git.mktree([]);
    const c1 = await git.commitTree({ tree, parents: [], message: "1" });
    const c2 = await git.commitTree({ tree, parents: [c1], message: "2" });
    const c3 = await git.commitTree({ tree, parents: [c1], message: "3" });
    const ref = "refs/heads/git-annex";

    assert.equal(await git.updateRef(ref, c1, null), true);
    // creating again fails: it exists now
    assert.equal(await git.updateRef(ref, c2, null), false);
    assert.equal(await git.revParse(ref), c1);

    assert.equal(await git.updateRef(ref, c2, c1), true);
    // a writer that still believes the ref is at c1 loses
    assert.equal(await git.updateRef(ref, c3, c1), false);
    assert.equal(await git.revParse(ref), c2);

    // concurrent swaps from the same old value: exactly one wins
    const results = await Promise.all(
      [c1, c3].map(async (msgParent) => {
        const c = await git.commitTree({ tree, parents: [msgParent, c2], message: "race" });
        return git.updateRef(ref, c, c2);
      }),
    );
    assert.deepEqual(results.filter((r) => r).length, 1);
  });
});
