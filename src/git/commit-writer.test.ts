import assert from "node:assert/strict";
import { readdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { CommitWriter } from "./commit-writer.js";
import { type CommitFilesOptions, Git, GitError, type Ident } from "./index.js";

let tmp: string;
before(async () => {
  tmp = await realpath(await makeTempDir());
});
after(async () => {
  await removeDir(tmp);
});

const WHO: Ident = { name: "A U Thor", email: "author@example.org" };

async function newRepo(name: string): Promise<{ git: Git; root: string }> {
  const dir = join(tmp, name);
  await run("git", ["init", "-q", "--bare", dir]);
  const git = await Git.open(dir);
  const tree = await git.mktree([]);
  const blob = await git.hashObject("seed\n");
  const seeded = await git.mktree([{ mode: "100644", type: "blob", sha: blob, name: "a.log" }]);
  assert.notEqual(seeded, tree);
  return { git, root: await git.commitTree({ tree: seeded, parents: [], message: "seed" }) };
}

function files(n: number, tag: string): CommitFilesOptions["changes"] {
  return Array.from({ length: n }, (_, i) => ({
    path: `${String(i % 7)}/${String(i)}.log`,
    content: `${tag} ${i}\n`,
  }));
}

async function packDir(git: Git): Promise<string[]> {
  return (await readdir(join(git.gitDir, "objects", "pack"))).sort();
}

/** The pids of this process's `git fast-import` children. */
async function fastImports(): Promise<number[]> {
  const out = await run("pgrep", ["-P", String(process.pid), "-f", "fast-import"]).catch(() => "");
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(Number);
}

describe("CommitWriter", () => {
  it("replaces a kept fast-import that died while it waited", async () => {
    const { git, root } = await newRepo("died");
    const writer = new CommitWriter(git);
    try {
      const opts = (from: string, tag: string) => ({
        from,
        changes: files(3, tag),
        message: tag,
        author: WHO,
        committer: WHO,
      });
      const first = await writer.commit(opts(root, "a"));
      const [pid] = await fastImports();
      assert.ok(pid !== undefined, "a fast-import is kept between commits");
      process.kill(pid, "SIGKILL");
      // Bounded by count: a killed process is reaped within a few turns.
      for (let i = 0; i < 200 && (await fastImports()).includes(pid); i++) {
        await new Promise((r) => setImmediate(r));
      }
      const second = await writer.commit(opts(first.commit, "b"));
      assert.equal(await git.revParse(`${second.commit}^`), first.commit);
    } finally {
      await writer.close();
    }
  });

  it("makes the commits one fast-import after another, each in the repository when it returns", async () => {
    const { git, root } = await newRepo("kept");
    const writer = new CommitWriter(git);
    try {
      let from = root;
      // A few objects (loose, through unpack-objects), then many (a pack).
      for (const [n, tag] of [
        [3, "one"],
        [150, "two"],
        [2, "three"],
      ] as const) {
        const opts = { from, changes: files(n, tag), message: tag, author: WHO, committer: WHO };
        const made = await writer.commit(opts);
        const single = await git.commitFiles({ ...opts });
        // The same tree as a fast-import of its own makes, and the commit readable at once.
        assert.equal(made.tree, single.tree);
        assert.equal(await git.revParse(`${made.commit}^{tree}`), made.tree);
        assert.equal(await git.revParse(`${made.commit}^`), from);
        const shown = await git.run(["cat-file", "-p", `${made.commit}:0/0.log`]);
        assert.equal(shown.toString(), `${tag} 0\n`);
        from = made.commit;
      }
      // No ref written, the scratch branch included.
      assert.equal((await git.run(["for-each-ref"])).toString(), "");
    } finally {
      await writer.close();
    }
    // Ended: no .keep left beside the packs it wrote.
    assert.deepEqual(
      (await packDir(git)).filter((f) => f.endsWith(".keep")),
      [],
    );
    await run("git", ["fsck", "--no-dangling"], { cwd: git.gitDir });
  });

  it("starts afresh after a failed commit, and commits on after close", async () => {
    const { git, root } = await newRepo("failure");
    const writer = new CommitWriter(git);
    const opts = (from: string) => ({
      from,
      changes: files(2, "x"),
      message: "m",
      author: WHO,
      committer: WHO,
    });
    await assert.rejects(writer.commit(opts("1".repeat(40))), GitError);
    const made = await writer.commit(opts(root));
    assert.equal(await git.revParse(`${made.commit}^`), root);
    await writer.close();
    const after = await writer.commit(opts(made.commit));
    assert.equal(await git.revParse(`${after.commit}^`), made.commit);
  });
});
