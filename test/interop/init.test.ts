/**
 * `initRepository` (git and Node only) versus stock `git annex init`:
 * stock git-annex must accept the result as an initialised repository.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AnnexBranch, BranchError, initRepository, locationsOf } from "../../src/branch/index.js";
import { Git } from "../../src/git/index.js";
import { parseKey } from "../../src/keys/index.js";
import { makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";

let tmp: string;

function annex(args: readonly string[], cwd: string): Promise<string> {
  return run("git", ["annex", ...args], { cwd });
}

interface InfoRepo {
  uuid: string;
  description: string;
  here: boolean;
}

async function infoRepos(cwd: string): Promise<InfoRepo[]> {
  const info = JSON.parse(await annex(["info", "--json"], cwd)) as Record<string, unknown>;
  return Object.entries(info)
    .filter(([k]) => k.endsWith("repositories"))
    .flatMap(([, v]) => v as InfoRepo[]);
}

/** `git config --list --local` as a map, without the values of the given keys. */
async function localConfig(cwd: string): Promise<Map<string, string>> {
  const out = await run("git", ["config", "--list", "--local"], { cwd });
  return new Map(
    out
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const i = l.indexOf("=");
        return [l.slice(0, i), l.slice(i + 1)] as const;
      }),
  );
}

describe("initRepository, checked by stock git-annex", () => {
  before(requireGitAnnex);
  before(async () => {
    tmp = await makeTempDir();
  });
  after(async () => {
    if (tmp !== undefined) await removeDir(tmp);
  });

  it("initialises a non-bare repository that git annex info, add, whereis and fsck accept", async () => {
    const dir = join(tmp, "work");
    await run("git", ["init", "-q", dir]);
    const git = await Git.open(dir);
    const { uuid, description } = await initRepository(git, { description: "gateway one" });
    assert.equal(description, "gateway one");
    assert.equal(await git.configGet("annex.uuid"), uuid);
    assert.equal(await git.configGet("annex.version"), "10");
    assert.ok(existsSync(join(git.gitDir, "annex", "journal")));
    assert.ok(existsSync(join(git.gitDir, "annex", "sentinal.cache")));

    const mine = (await infoRepos(dir)).find((r) => r.uuid === uuid);
    assert.deepEqual(mine, { uuid, description: "gateway one", here: true });
    await annex(["whereis"], dir);

    await writeFile(join(dir, "big.bin"), "some content\n");
    await annex(["add", "-q", "big.bin"], dir);
    await run("git", ["commit", "-q", "-m", "add"], { cwd: dir });
    await annex(["fsck", "--quiet"], dir);
    const where = JSON.parse(await annex(["whereis", "--json", "big.bin"], dir)) as {
      whereis: InfoRepo[];
    };
    assert.deepEqual(
      where.whereis.map((w) => [w.uuid, w.description, w.here]),
      [[uuid, "gateway one", true]],
    );
    const key = parseKey((await annex(["lookupkey", "big.bin"], dir)).trim());
    const branch = await AnnexBranch.open(git);
    try {
      assert.deepEqual(await locationsOf(branch, key), [uuid]);
    } finally {
      await branch.close();
    }

    // Running it again, or stock init after it, keeps UUID and description.
    assert.deepEqual(await initRepository(git), { uuid, description: "gateway one" });
    await annex(["init", "-q"], dir);
    assert.equal(await git.configGet("annex.uuid"), uuid);
    assert.equal((await infoRepos(dir)).find((r) => r.uuid === uuid)?.description, "gateway one");
  });

  it("initialises a bare repository that serves as a remote", async () => {
    const bare = join(tmp, "served.git");
    await run("git", ["init", "-q", "--bare", bare]);
    const git = await Git.open(bare);
    const uuid = "5e1f6d2a-0b7c-4d3e-9f8a-112233445566";
    await initRepository(git, { description: "bare gateway", uuid });
    assert.deepEqual(
      (await infoRepos(bare)).find((r) => r.uuid === uuid),
      { uuid, description: "bare gateway", here: true },
    );

    // The same config as stock git-annex writes for a bare repository.
    const stockBare = join(tmp, "stock.git");
    await run("git", ["init", "-q", "--bare", stockBare]);
    await annex(["init", "-q", "stock"], stockBare);
    const ours = await localConfig(bare);
    const theirs = await localConfig(stockBare);
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
    assert.equal(ours.get("annex.version"), theirs.get("annex.version"));

    const clone = join(tmp, "client");
    await run("git", ["clone", "-q", bare, clone]);
    await annex(["init", "-q", "client"], clone);
    await writeFile(join(clone, "f.txt"), "to the gateway\n");
    await annex(["add", "-q", "f.txt"], clone);
    await run("git", ["commit", "-q", "-m", "f"], { cwd: clone });
    await annex(["copy", "-q", "--to", "origin", "f.txt"], clone);
    await annex(["sync", "-q", "--no-content"], clone);
    await annex(["fsck", "--quiet"], bare);
    const key = (await annex(["lookupkey", "f.txt"], clone)).trim();
    const where = JSON.parse(await annex(["whereis", "--json", "--key", key], bare)) as {
      whereis: InfoRepo[];
    };
    assert.ok(where.whereis.some((w) => w.uuid === uuid && w.here));
    assert.deepEqual(
      (await infoRepos(clone)).find((r) => r.uuid === uuid)?.description,
      "bare gateway [origin]",
    );
  });

  it("refuses a different UUID or repository version than the repository has", async () => {
    const dir = join(tmp, "taken.git");
    await run("git", ["init", "-q", "--bare", dir]);
    const git = await Git.open(dir);
    const { uuid } = await initRepository(git, { description: "x" });
    await assert.rejects(
      initRepository(git, { uuid: "00000000-0000-4000-8000-000000000000" }),
      (e: unknown) => e instanceof BranchError && e.code === "AG_BRANCH_INIT",
    );
    assert.equal((await initRepository(git, { uuid })).uuid, uuid);
    await git.configSet("annex.version", "8");
    await assert.rejects(initRepository(git), BranchError);
  });

  it("matches the config stock init writes for a work tree, minus what needs git-annex", async () => {
    const ours = join(tmp, "cfg-ours");
    const theirs = join(tmp, "cfg-theirs");
    await run("git", ["init", "-q", ours]);
    await run("git", ["init", "-q", theirs]);
    await initRepository(await Git.open(ours), { description: "o" });
    await annex(["init", "-q", "t"], theirs);
    const a = await localConfig(ours);
    const b = await localConfig(theirs);
    const missing = [...b.keys()].filter((k) => !a.has(k)).sort();
    assert.deepEqual(missing, [
      "filter.annex.clean",
      "filter.annex.process",
      "filter.annex.smudge",
    ]);
    assert.deepEqual(
      [...a.keys()].filter((k) => !b.has(k)),
      [],
    );
  });
});
