/**
 * Where stock git-annex puts content is where annexgate says it is wanted:
 * four directory special remotes in a group, each wanting `balanced=g`
 * (and, in a second round, `sizebalanced` / `include` drops); stock
 * `git annex copy --auto` / `drop --auto` move the content, and annexgate's
 * `wantsKey` over a snapshot read from the same branch predicted each move.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AnnexBranch, locationsOf } from "../../src/branch/index.js";
import { Git } from "../../src/git/index.js";
import { type Key, parseKey } from "../../src/keys/index.js";
import {
  loadKeyState,
  loadPolicySnapshot,
  mayDropByLog,
  Policy,
  repositoryStability,
  wantsKey,
} from "../../src/preferred-content/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";

const FILES = 40;
const REMOTES = 4;

let tmp: string;
let repo: string;
const uuids: string[] = [];
const keys: Key[] = [];
const files: string[] = [];

async function annex(...args: string[]): Promise<string> {
  return run("git", ["annex", ...args], { cwd: repo });
}

async function withBranch<T>(f: (b: AnnexBranch) => Promise<T>): Promise<T> {
  const branch = await AnnexBranch.open(await Git.open(repo));
  try {
    return await f(branch);
  } finally {
    await branch.close();
  }
}

before(async () => {
  tmp = await makeTempDir("annexgate-placement-");
  repo = await gitAnnexRepo(join(tmp, "here"), "here");
  for (let i = 1; i <= REMOTES; i++) {
    const dir = join(tmp, `d${i}`);
    await mkdir(dir);
    await annex("initremote", `r${i}`, "type=directory", `directory=${dir}`, "encryption=none");
    uuids.push((await run("git", ["config", `remote.r${i}.annex-uuid`], { cwd: repo })).trim());
    await annex("group", `r${i}`, "g");
    await annex("wanted", `r${i}`, "balanced=g");
  }
  await mkdir(join(repo, "sub"));
  for (let i = 0; i < FILES; i++) {
    const f = i % 3 === 0 ? `sub/f${i}.txt` : `f${i}.bin`;
    await writeFile(join(repo, f), `content ${i}\n`);
    files.push(f);
  }
  await annex("add", ".");
  await run("git", ["commit", "-qm", "files"], { cwd: repo });
  for (const f of files) keys.push(parseKey((await annex("lookupkey", f)).trim()));
});

after(async () => {
  if (tmp !== undefined) await removeDir(tmp);
});

describe("placement: stock copy --auto / drop --auto against annexgate wantsKey", {
  timeout: 300_000,
}, () => {
  it("balanced=g: each key goes to the one member annexgate picks", async () => {
    const predicted = await withBranch(async (branch) => {
      const policy = new Policy(await loadPolicySnapshot(branch));
      const out = new Map<string, string[]>();
      for (const [i, key] of keys.entries()) {
        const state = await loadKeyState(branch, key);
        out.set(
          files[i] as string,
          uuids.filter((u) => wantsKey(policy, u, key, { file: files[i] as string, state })),
        );
      }
      return out;
    });
    for (const [f, us] of predicted) assert.equal(us.length, 1, `${f}: ${us}`);
    // Every member gets a share (40 keys over 4 members).
    assert.equal(new Set([...predicted.values()].flat()).size, REMOTES);
    for (let i = 1; i <= REMOTES; i++) await annex("copy", "--auto", "--to", `r${i}`);
    await withBranch(async (branch) => {
      for (const [i, key] of keys.entries()) {
        const have = (await locationsOf(branch, key)).filter((u) => uuids.includes(u));
        assert.deepEqual(have, predicted.get(files[i] as string), files[i]);
      }
    });
  });

  it("drop --auto drops exactly what annexgate says is unwanted once dropped", async () => {
    // r1 now wants only the .txt files; give it everything, then let stock drop.
    await annex("wanted", "r1", "include=*.txt or include=sub/f3*");
    await annex("copy", "--to", "r1", ".");
    const predicted = await withBranch(async (branch) => {
      const policy = new Policy(await loadPolicySnapshot(branch));
      const u = uuids[0] as string;
      const out = new Map<string, boolean>();
      for (const [i, key] of keys.entries()) {
        const state = await loadKeyState(branch, key);
        out.set(files[i] as string, mayDropByLog(policy, u, key, state, files[i] as string));
      }
      return out;
    });
    assert.ok([...predicted.values()].some((d) => d));
    assert.ok([...predicted.values()].some((d) => !d));
    await annex("drop", "--auto", "--from", "r1");
    await withBranch(async (branch) => {
      for (const [i, key] of keys.entries()) {
        const still = (await locationsOf(branch, key)).includes(uuids[0] as string);
        assert.equal(still, !predicted.get(files[i] as string), files[i]);
      }
    });
  });

  it("an unstable expression never matches, for stock and for annexgate", async () => {
    // r3: "not groupwanted" where groupwanted is "present": unstable, wants nothing.
    // r4: the same over a stable groupwanted: wants what it lacks.
    await annex("group", "r3", "h");
    await annex("groupwanted", "h", "present");
    await annex("wanted", "r3", "not groupwanted");
    await annex("group", "r4", "k");
    await annex("groupwanted", "k", "copies=5");
    await annex("wanted", "r4", "not groupwanted");
    const predicted = await withBranch(async (branch) => {
      const policy = new Policy(await loadPolicySnapshot(branch));
      const out = new Map<string, [boolean, boolean]>();
      for (const [i, key] of keys.entries()) {
        const state = await loadKeyState(branch, key);
        const f = files[i] as string;
        out.set(f, [
          wantsKey(policy, uuids[2] as string, key, { file: f, state }),
          wantsKey(policy, uuids[3] as string, key, { file: f, state }),
        ]);
      }
      assert.equal(repositoryStability(policy, uuids[2] as string).stable, false);
      assert.equal(repositoryStability(policy, uuids[3] as string).stable, true);
      return out;
    });
    assert.ok([...predicted.values()].every(([r3]) => !r3));
    assert.ok([...predicted.values()].some(([, r4]) => r4));
    const before = await withBranch(async (branch) =>
      Promise.all(keys.map((k) => locationsOf(branch, k))),
    );
    await annex("copy", "--auto", "--to", "r3");
    await annex("copy", "--auto", "--to", "r4");
    await withBranch(async (branch) => {
      for (const [i, key] of keys.entries()) {
        const locs = await locationsOf(branch, key);
        const [r3, r4] = predicted.get(files[i] as string) ?? [false, false];
        const had = before[i] ?? [];
        assert.equal(
          locs.includes(uuids[2] as string),
          r3 || had.includes(uuids[2] as string),
          files[i],
        );
        assert.equal(
          locs.includes(uuids[3] as string),
          r4 || had.includes(uuids[3] as string),
          files[i],
        );
      }
    });
  });
});
