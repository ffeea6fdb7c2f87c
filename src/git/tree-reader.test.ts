import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { CatFileBatch, Git, GitError, TreeReader } from "./index.js";

let tmp: string;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

/** Files of the first commit: nested, non-ASCII, a symlink, an empty file. */
const FILES: Record<string, string> = {
  "top.log": "top\n",
  "a/b/c.log": "deep\n",
  "a/b/d.log": "",
  "a/e.log": "middle\n",
  "ü/naïve %&;.log": "non-ascii\n",
  ...Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [`x${i % 5}/y${i % 3}/f${i}`, `${i}\n`]),
  ),
};

/** A repository (of `format`, in `name`) with FILES committed, then one file changed in a second commit. */
async function repository(
  format: "sha1" | "sha256",
  name: string = format,
): Promise<{ git: Git; first: string; second: string }> {
  const dir = join(tmp, name);
  await run("git", ["init", "-q", `--object-format=${format}`, dir]);
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await symlink("top.log", join(dir, "link"));
  const git = (...a: string[]) =>
    run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...a], { cwd: dir });
  await git("add", "-A");
  await git("commit", "-qm", "one");
  const first = (await git("rev-parse", "HEAD")).trim();
  await writeFile(join(dir, "a/b/c.log"), "changed\n");
  await git("commit", "-qam", "two");
  const second = (await git("rev-parse", "HEAD")).trim();
  return { git: await Git.open(dir), first, second };
}

/** What `git cat-file --batch` answers for `<commit>:<path>`, for comparison. */
async function gitsAnswer(cat: CatFileBatch, commit: string, path: string): Promise<string | null> {
  return (await cat.get(`${commit}:${path}`))?.toString("latin1") ?? null;
}

/**
 * A commit whose root tree names the subtree `d` with the mode text
 * `modeText` (git writes "40000"; older tools wrote "040000", and git reads
 * any mode with the directory bits as a tree).
 */
async function commitWithDirMode(git: Git, dir: string, modeText: string): Promise<string> {
  const sh = (args: string[], input?: string) =>
    run("git", args, { cwd: dir, ...(input === undefined ? {} : { input }) });
  const blob = (await sh(["hash-object", "-w", "--stdin"], "hello\n")).trim();
  const sub = (await sh(["mktree"], `100644 blob ${blob}\tf\n`)).trim();
  const file = join(tmp, `root-${modeText}`);
  await writeFile(file, Buffer.concat([Buffer.from(`${modeText} d\0`), Buffer.from(sub, "hex")]));
  const tree = (await sh(["hash-object", "-w", "--literally", "-t", "tree", file])).trim();
  return git.commitTree({ tree, parents: [], message: modeText });
}

/** A cat-file reader that lists what it was asked. */
class CountingCat extends CatFileBatch {
  readonly asked: string[] = [];
  override get(name: string): Promise<Buffer | null> {
    this.asked.push(name);
    return super.get(name);
  }
}

describe("TreeReader", () => {
  it("asks git for a small blob once, and a large one each time", async () => {
    const { git, first, second } = await repository("sha1", "counted");
    const big = "x".repeat(20 * 1024);
    await writeFile(join(git.dir, "big.log"), big);
    await run("git", ["-c", "user.name=t", "-c", "user.email=t@t", "add", "big.log"], {
      cwd: git.dir,
    });
    await run("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "big"], {
      cwd: git.dir,
    });
    const third = await git.revParse("HEAD");
    assert.ok(third !== null);
    const cat = new CountingCat(git);
    try {
      const reader = new TreeReader(cat);
      // top.log is the same blob in all three commits; c.log changed in the second.
      for (const commit of [first, second, third, first]) {
        assert.equal((await reader.read(commit, "top.log"))?.toString(), "top\n");
      }
      assert.equal((await reader.read(first, "a/b/c.log"))?.toString(), "deep\n");
      assert.equal((await reader.read(second, "a/b/c.log"))?.toString(), "changed\n");
      assert.equal((await reader.read(third, "a/b/c.log"))?.toString(), "changed\n");
      const blobOf = async (commit: string, path: string) =>
        (await git.revParse(`${commit}:${path}`)) ?? "";
      const askedFor = async (commit: string, path: string) => {
        const sha = await blobOf(commit, path);
        return cat.asked.filter((n) => n === sha).length;
      };
      assert.equal(await askedFor(first, "top.log"), 1);
      assert.equal(await askedFor(first, "a/b/c.log"), 1);
      assert.equal(await askedFor(second, "a/b/c.log"), 1);
      for (let i = 0; i < 2; i++)
        assert.equal((await reader.read(third, "big.log"))?.length, big.length);
      assert.equal(await askedFor(third, "big.log"), 2, "a blob over 16 KiB is not kept");
    } finally {
      await cat.close();
    }
  });

  it("takes any directory mode for a tree, as git does", async () => {
    await run("git", ["init", "-q", join(tmp, "modes")]);
    const git = await Git.open(join(tmp, "modes"));
    const cat = new CatFileBatch(git);
    try {
      for (const mode of ["40000", "040000", "40755"]) {
        const commit = await commitWithDirMode(git, git.dir, mode);
        assert.equal(await gitsAnswer(cat, commit, "d/f"), "hello\n", `git, mode ${mode}`);
        assert.equal((await new TreeReader(cat).read(commit, "d/f"))?.toString(), "hello\n", mode);
      }
    } finally {
      await cat.close();
    }
  });

  for (const format of ["sha1", "sha256"] as const) {
    it(`reads what git reads, in a ${format} repository, with a tiny cache too`, async () => {
      const { git, first, second } = await repository(format);
      const cat = new CatFileBatch(git);
      try {
        const paths = [
          ...Object.keys(FILES),
          "link",
          "a",
          "a/b",
          "missing.log",
          "a/missing/c.log",
          "top.log/under-a-file",
          "x1/y9/nothing",
        ];
        // maxEntries 3 evicts all the time; every answer must still be git's.
        for (const reader of [new TreeReader(cat), new TreeReader(cat, 3)]) {
          for (const commit of [first, second, first]) {
            const ours = await Promise.all(
              paths.map(async (p) => (await reader.read(commit, p))?.toString("latin1") ?? null),
            );
            const gits = await Promise.all(paths.map((p) => gitsAnswer(cat, commit, p)));
            assert.deepEqual(ours, gits);
          }
        }
        const reader = new TreeReader(cat);
        assert.equal((await reader.read(first, "a/b/c.log"))?.toString(), "deep\n");
        assert.equal((await reader.read(second, "a/b/c.log"))?.toString(), "changed\n");
        assert.equal((await reader.read(second, "ü/naïve %&;.log"))?.toString(), "non-ascii\n");
        assert.equal(await reader.read(second, "top.log/under-a-file"), null);
        await assert.rejects(reader.read("0".repeat(first.length), "top.log"), GitError);
      } finally {
        await cat.close();
      }
    });
  }
});
