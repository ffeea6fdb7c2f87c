import assert from "node:assert/strict";
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { type FileChange, Git, GitError, type Ident } from "./index.js";

let tmp: string;
before(async () => {
  tmp = await realpath(await makeTempDir());
});
after(async () => {
  await removeDir(tmp);
});

const WHO: Ident = { name: "A U Thor", email: "author@example.org" };

async function newRepo(name: string): Promise<Git> {
  const dir = join(tmp, name);
  await run("git", ["init", "-q", "--bare", dir]);
  return Git.open(dir);
}

/** A first commit holding `files`, made the index way (editTree + commitTree). */
async function seed(git: Git, files: Record<string, string>): Promise<string> {
  const paths = Object.keys(files);
  const shas = await git.hashObjects(paths.map((p) => files[p] ?? ""));
  const tree = await git.editTree(
    null,
    paths.map((path, i) => ({ path, sha: shas[i] ?? null })),
  );
  return git.commitTree({ tree, parents: [], message: "seed" });
}

async function refs(git: Git): Promise<string> {
  return (await git.run(["for-each-ref"])).toString();
}

describe("Git.commitFiles", () => {
  it("makes the same tree as the index would, and a commit with the given parents, message and identity, without writing a ref", async () => {
    const git = await newRepo("same-tree");
    const base = await seed(git, { "a.txt": "a\n", "x/old.log": "old\n", "x/y/keep.log": "k\n" });
    const other = await seed(git, { "o.txt": "o\n" });
    await git.updateRef("refs/heads/git-annex", base, null);
    const before = await refs(git);
    const odd = [
      "sp ace/f.log",
      'q"uote.log',
      "back\\slash.log",
      "tab\there.log",
      "é/ü.log",
      '"lead',
    ];
    const changes: FileChange[] = [
      ...odd.map((path, i) => ({ path, content: `odd ${i}\n` })),
      { path: "x/old.log", content: null },
      { path: "x/y/new.log", content: Buffer.from("new\n") },
      { path: "run.sh", content: "#!/bin/sh\n", mode: "100755" },
      { path: "a.txt", content: "first\n" },
      { path: "a.txt", content: "second wins\n" },
    ];
    const made = await git.commitFiles({
      from: base,
      merges: [other],
      changes,
      message: "update",
      author: WHO,
      committer: WHO,
    });

    const shas = await git.hashObjects(changes.map((c) => c.content ?? ""));
    const expected = await git.editTree(
      base,
      changes.map((c, i) => ({
        path: c.path,
        sha: c.content === null ? null : (shas[i] ?? null),
        ...(c.mode === undefined ? {} : { mode: c.mode }),
      })),
    );
    assert.equal(made.tree, expected);
    assert.equal(made.parentTree, await git.revParse(`${base}^{tree}`));
    const text = (await git.run(["cat-file", "commit", made.commit])).toString();
    assert.match(text, new RegExp(`^tree ${expected}\nparent ${base}\nparent ${other}\n`));
    assert.match(text, /\nauthor A U Thor <author@example\.org> \d+ [+-]\d{4}\n/);
    assert.match(text, /\ncommitter A U Thor <author@example\.org> \d+ [+-]\d{4}\n\nupdate\n$/);
    assert.equal(await refs(git), before, "no ref written or left behind");
  });

  it("reports an unchanged tree when the changes change nothing", async () => {
    const git = await newRepo("no-op");
    const base = await seed(git, { "a/b.log": "b\n" });
    const made = await git.commitFiles({
      from: base,
      changes: [{ path: "a/b.log", content: "b\n" }],
      message: "update",
      author: WHO,
      committer: WHO,
    });
    assert.equal(made.tree, made.parentTree);
  });

  it("writes thousands of files as one pack, not loose objects", async () => {
    const git = await newRepo("pack");
    const base = await seed(git, { "uuid.log": "u\n" });
    const n = 3000;
    const changes = Array.from({ length: n }, (_, i) => ({
      path: `${(i % 97).toString(16)}/${i % 13}/key-${i}.log`,
      content: `${i} 1 u\n`,
    }));
    const made = await git.commitFiles({
      from: base,
      changes,
      message: "update",
      author: WHO,
      committer: WHO,
    });
    const listed = (await git.run(["ls-tree", "-r", "--name-only", made.tree])).toString();
    assert.equal(listed.split("\n").filter((l) => l.endsWith(".log")).length, n + 1);
    const counts = (await git.run(["count-objects", "-v"])).toString();
    const loose = Number(/^count: (\d+)$/m.exec(counts)?.[1]);
    const packed = Number(/^in-pack: (\d+)$/m.exec(counts)?.[1]);
    assert.ok(packed > n, `objects in a pack: ${counts}`);
    assert.ok(loose < 20, `only the seed is loose: ${counts}`);
  });

  it("refuses bad paths, identities and parents with a GitError", async () => {
    const git = await newRepo("bad");
    const base = await seed(git, { "a.log": "a\n" });
    const attempt = (over: Partial<Parameters<Git["commitFiles"]>[0]>) =>
      git.commitFiles({
        from: base,
        changes: [{ path: "b.log", content: "b\n" }],
        message: "m",
        author: WHO,
        committer: WHO,
        ...over,
      });
    await assert.rejects(attempt({ changes: [{ path: "a\nb", content: "x" }] }), GitError);
    await assert.rejects(attempt({ changes: [{ path: "/abs", content: "x" }] }), GitError);
    await assert.rejects(attempt({ author: { name: "x>", email: "e" } }), GitError);
    await assert.rejects(attempt({ from: "not-a-sha" }), GitError);
    // a well-formed id of no commit: git itself refuses it
    await assert.rejects(attempt({ from: "1".repeat(40) }), GitError);
    assert.equal(await refs(git), "");
  });
});
