import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { CatFileBatch, Git, GitError } from "./index.js";

let tmp: string;
let git: Git;
/** blob id to its content */
const blobs = new Map<string, string>();

before(async () => {
  tmp = await makeTempDir();
  await run("git", ["init", "-q", "--bare", join(tmp, "r.git")]);
  git = await Git.open(join(tmp, "r.git"));
  const contents = Array.from({ length: 60 }, (_, i) => `blob ${i}\n${"x".repeat(i * 997)}`);
  const shas = await git.hashObjects(contents);
  shas.forEach((s, i) => {
    blobs.set(s, contents[i] ?? "");
  });
  const tree = await git.editTree(
    null,
    shas.map((sha, i) => ({ path: `d${i % 7}/f${i}.log`, sha })),
  );
  const commit = await git.commitTree({ tree, parents: [], message: "m" });
  await git.updateRef("refs/heads/git-annex", commit, null);
});
after(async () => {
  await removeDir(tmp);
});

describe("CatFileBatch", () => {
  it("answers 100 concurrent gets correctly, in order", async () => {
    const cat = new CatFileBatch(git);
    try {
      const shas = [...blobs.keys()];
      const names: { name: string; want: string | null }[] = [];
      for (let i = 0; i < 100; i++) {
        if (i % 10 === 3) names.push({ name: `refs/heads/git-annex:nope/${i}`, want: null });
        else if (i % 10 === 7) names.push({ name: "0".repeat(39) + (i % 10), want: null });
        else {
          const n = i % shas.length;
          const want = blobs.get(shas[n] ?? "") ?? "";
          // alternate between ids and ref:path names
          names.push({
            name: i % 2 === 0 ? (shas[n] ?? "") : `refs/heads/git-annex:d${n % 7}/f${n}.log`,
            want,
          });
        }
      }
      const order: number[] = [];
      const answers = await Promise.all(
        names.map((n, i) =>
          cat.get(n.name).then((b) => {
            order.push(i);
            return b;
          }),
        ),
      );
      answers.forEach((b, i) => {
        assert.equal(b === null ? null : b.toString("utf8"), names[i]?.want, `request ${i}`);
      });
      assert.deepEqual(
        order,
        names.map((_, i) => i),
      );
    } finally {
      await cat.close();
    }
  });

  it("sees ref updates made after it started", async () => {
    const cat = new CatFileBatch(git);
    try {
      const before = await cat.get("refs/heads/other:a");
      assert.equal(before, null);
      const blob = await git.hashObject("new\n");
      const tree = await git.editTree(null, [{ path: "a", sha: blob }]);
      const c = await git.commitTree({ tree, parents: [], message: "o" });
      await git.updateRef("refs/heads/other", c, null);
      assert.equal((await cat.get("refs/heads/other:a"))?.toString(), "new\n");
    } finally {
      await cat.close();
    }
  });

  it("restarts git when it dies, and retries what was unanswered", async () => {
    const cat = new CatFileBatch(git);
    try {
      const [sha, content] = [...blobs][5] ?? ["", ""];
      assert.equal((await cat.get(sha))?.toString(), content);
      const pid = cat.pid;
      assert.ok(pid !== undefined);
      process.kill(pid, "SIGKILL");
      const again = await Promise.all([cat.get(sha), cat.get(sha)]);
      for (const b of again) assert.equal(b?.toString(), content);
      assert.notEqual(cat.pid, pid);
    } finally {
      await cat.close();
    }
  });

  it("refuses names it cannot send, and gets after close", async () => {
    const cat = new CatFileBatch(git);
    await assert.rejects(cat.get("a\nb"), GitError);
    const pending = cat.get([...blobs.keys()][0] ?? "");
    await cat.close();
    assert.ok((await pending) !== null, "a get made before close is still answered");
    await cat.close();
    await assert.rejects(cat.get("HEAD"), GitError);
    assert.equal(cat.pid, undefined);
  });

  it("does not keep the process alive while idle", async () => {
    const door = pathToFileURL(join(import.meta.dirname, "index.js")).href;
    const script = [
      `import { CatFileBatch, Git } from ${JSON.stringify(door)};`,
      `const cat = new CatFileBatch(await Git.open(${JSON.stringify(git.dir)}));`,
      `const b = await cat.get("refs/heads/git-annex");`,
      `console.log(b === null ? "missing" : "found");`,
    ].join("\n");
    const exited = run(process.execPath, ["--input-type=module", "-e", script]);
    const timeout = new Promise<string>((_, reject) => {
      setTimeout(() => reject(new Error("the child process did not exit")), 10_000).unref();
    });
    assert.equal((await Promise.race([exited, timeout])).trim(), "found");
  });
});
