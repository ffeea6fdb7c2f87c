/**
 * The export-location index over a real git repository: the keys of an
 * exported tree's symlinks and pointer files, the annexobjects path as
 * stock git-annex writes it, and an index rebuilt as soon as export.log
 * names another tree.
 */
import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../../test/helpers/index.js";
import { Git } from "../../git/index.js";
import { parseKey } from "../../keys/index.js";
import {
  annexObjectLocation,
  ExportIndex,
  indexTree,
  isSafeExportPath,
  parseCatFileBatch,
} from "./export-index.js";

const K1 = "SHA256E-s6--65110ea3b8b62b0c09742c368bf1527f0978b06dff7a1371ef7b4c98e244d91a.txt";
const K2 = "SHA256E-s4--0b0f2b3b3c3f6d0a7b1d1e6f0c7e6a2d9d4e8b1a2c3d4e5f60718293a4b5c6d7";
const REMOTE = "4f2cc4df-6ea4-4db1-a3bc-79378573506a";
const FROM = "eba8edcd-d99a-4e95-b876-3f9eff4ae527";

describe("the annexobjects location", () => {
  it("is .git/annex/objects/<hashdirlower>/<keyFile>/<keyFile>, as stock wrote it", () => {
    // The path stock git-annex 10.20250416 stored this key at (copy --to an
    // exporttree=yes annexobjects=yes directory remote).
    assert.equal(annexObjectLocation(parseKey(K1)), `.git/annex/objects/aeb/9e1/${K1}/${K1}`);
  });
});

describe("export paths", () => {
  it("are relative, without empty, '.', '..' or .git segments", () => {
    for (const p of ["a.txt", "sub/b.txt", "a/.gitignore", "tmp/x", ".github/w"]) {
      assert.equal(isSafeExportPath(p), true, p);
    }
    for (const p of [
      "",
      "/etc/passwd",
      "a//b",
      "./a",
      "a/../../b",
      "..",
      ".git/x",
      ".GIT/x",
      "a/.",
    ]) {
      assert.equal(isSafeExportPath(p), false, p);
    }
  });
});

describe("cat-file --batch output", () => {
  it("splits blobs, missing objects and blobs holding newlines", () => {
    const out = Buffer.from("aaaa blob 3\nx\ny\nbbbb missing\ncccc tree 2\nzz\ndddd blob 0\n\n");
    const blobs = parseCatFileBatch(out, 4);
    assert.deepEqual(
      blobs.map((b) => b?.toString()),
      ["x\ny", undefined, undefined, ""],
    );
  });
});

describe("the export-location index", () => {
  let dir: string;
  let git: Git;
  let tree1: string;
  let tree2: string;

  const commitTree = async () => {
    await run("git", ["add", "-A"], { cwd: dir });
    await run("git", ["commit", "-q", "-m", "t"], { cwd: dir });
    return (await run("git", ["rev-parse", "HEAD^{tree}"], { cwd: dir })).trim();
  };

  before(async () => {
    dir = await makeTempDir("annexgate-export-index-");
    await run("git", ["init", "-q", dir]);
    await run("git", ["config", "user.email", "t@example.com"], { cwd: dir });
    await run("git", ["config", "user.name", "t"], { cwd: dir });
    git = await Git.open(dir);
    await mkdir(join(dir, "sub"));
    await symlink(`.git/annex/objects/Xq/9F/${K1}/${K1}`, join(dir, "a.txt"));
    await symlink(`../.git/annex/objects/Xq/9F/${K1}/${K1}`, join(dir, "sub", "same.txt"));
    await writeFile(join(dir, "unlocked"), `/annex/objects/${K2}\n`);
    await writeFile(join(dir, "plain.txt"), "not annexed\n");
    await symlink("plain.txt", join(dir, "link"));
    tree1 = await commitTree();
    await run("git", ["rm", "-q", "a.txt", "sub/same.txt"], { cwd: dir });
    tree2 = await commitTree();
  });
  after(async () => {
    await removeDir(dir);
  });

  it("maps each annexed key to its files; other files name no key", async () => {
    const index = await indexTree(git, tree1);
    assert.deepEqual(
      new Map([...index].map(([k, v]) => [k, [...v].sort()])),
      new Map([
        [K1, ["a.txt", "sub/same.txt"]],
        [K2, ["unlocked"]],
      ]),
    );
  });

  it("follows export.log: no export, an export, a new export, a conflict", async () => {
    let log = "";
    let reads = 0;
    const index = new ExportIndex({
      remoteUuid: REMOTE,
      git,
      readLog: async () => {
        reads++;
        return log;
      },
    });
    const k1 = parseKey(K1);
    assert.deepEqual(await index.locations(k1), { paths: [], conflict: false });
    log = `1s ${FROM}:${REMOTE} ${tree1}\n`;
    assert.deepEqual([...(await index.locations(k1)).paths].sort(), ["a.txt", "sub/same.txt"]);
    // Another remote's export is not this one's.
    log += `2s ${FROM}:11111111-1111-4111-8111-111111111111 ${tree2}\n`;
    assert.equal((await index.locations(k1)).paths.length, 2);
    log += `3s ${FROM}:${REMOTE} ${tree2}\n`;
    assert.deepEqual(await index.locations(k1), { paths: [], conflict: false });
    assert.deepEqual(await index.locations(parseKey(K2)), { paths: ["unlocked"], conflict: false });
    log += `1s 22222222-2222-4222-8222-222222222222:${REMOTE} ${tree1}\n`;
    const inConflict = await index.locations(k1);
    assert.equal(inConflict.conflict, true);
    assert.deepEqual([...inConflict.paths].sort(), ["a.txt", "sub/same.txt"]);
    assert.equal(reads, 6, "every lookup reads the log afresh");
  });

  it("a tree the repository lacks is an unreachable export, never 'no locations'", async () => {
    const index = new ExportIndex({
      remoteUuid: REMOTE,
      git,
      readLog: async () => `1s ${FROM}:${REMOTE} ${"1".repeat(40)}\n`,
    });
    await assert.rejects(index.locations(parseKey(K1)), /exported tree is not available/);
  });
});
