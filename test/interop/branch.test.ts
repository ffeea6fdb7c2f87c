/**
 * annexgate and stock git-annex working on the same git-annex branch:
 * each reads what the other wrote (committed or still in the journal),
 * and neither loses or reverts the other's changes.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  AnnexBranch,
  BRANCH_REF,
  changeMapLog,
  clockFromSeconds,
  formatPresenceLog,
  formatUuidLog,
  locationLogPath,
  locationsOf,
  parsePresenceLog,
  parseUuidLog,
  readUuidDescriptions,
  setLocation,
  setPresence,
} from "../../src/branch/index.js";
import { Git } from "../../src/git/index.js";
import { formatKey, genUuid, type Key, parseKey } from "../../src/keys/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";

let tmp: string;
let repo: string;
let git: Git;
let here: string;
/** The key of a file added to the repository by stock git-annex. */
let key: Key;

function annex(args: readonly string[], env?: Record<string, string>, cwd = repo): Promise<string> {
  return run("git", ["annex", ...args], env === undefined ? { cwd } : { cwd, env });
}

/** Stock git-annex's view: the UUIDs whereis lists for a key. */
async function stockWhereis(k: Key, cwd = repo): Promise<string[]> {
  const out = await annex(["whereis", "--json", "--key", keyText(k)], undefined, cwd).catch(
    // whereis exits 1 when there are no copies
    (e: Error) => (e.message.includes("{") ? e.message.slice(e.message.indexOf("{")) : "{}"),
  );
  const json = JSON.parse(out.trim().split("\n")[0] ?? "{}") as { whereis?: { uuid: string }[] };
  return (json.whereis ?? []).map((w) => w.uuid).sort();
}

async function stockHas(k: Key, uuid: string): Promise<boolean> {
  return annex(["readpresentkey", keyText(k), uuid]).then(
    () => true,
    () => false,
  );
}

function keyText(k: Key): string {
  return formatKey(k);
}
function fakeKey(): Key {
  return parseKey(`SHA256E-s1--${genUuid().replaceAll("-", "")}${"0".repeat(32)}.bin`);
}

async function committed(path: string): Promise<string> {
  return run("git", ["cat-file", "blob", `${BRANCH_REF}:${path}`], { cwd: repo }).catch(() => "");
}

describe("git-annex branch interop with stock git-annex", () => {
  before(requireGitAnnex);
  before(async () => {
    tmp = await makeTempDir();
    repo = await gitAnnexRepo(join(tmp, "stock"), "stock repo");
    git = await Git.open(repo);
    here = (await git.configGet("annex.uuid")) ?? "";
    await writeFile(join(repo, "file.txt"), "hello\n");
    await annex(["add", "-q", "file.txt"]);
    await run("git", ["commit", "-q", "-m", "add"], { cwd: repo });
    key = parseKey((await annex(["lookupkey", "file.txt"])).trim());
  });
  after(async () => {
    if (tmp !== undefined) await removeDir(tmp);
  });

  it("reads committed logs at the paths git-annex uses", async () => {
    const u1 = genUuid();
    await annex(["setpresentkey", keyText(key), u1, "1"]);
    await annex(["merge"]); // commits the journal
    const path = locationLogPath(key);
    const files = await run("git", ["ls-tree", "-r", "--name-only", BRANCH_REF], { cwd: repo });
    assert.ok(files.split("\n").includes(path), `${path} in ${files}`);
    assert.ok(!existsSync(join(git.gitDir, "annex", "journal", path.replaceAll("/", "_"))));
    const branch = await AnnexBranch.open(git);
    try {
      assert.equal(await branch.read(path), await committed(path));
      assert.deepEqual(await locationsOf(branch, key), await stockWhereis(key));
      assert.deepEqual([...(await locationsOf(branch, key))].sort(), [here, u1].sort());
      assert.equal((await readUuidDescriptions(branch)).get(here), "stock repo");
    } finally {
      await branch.close();
    }
  });

  it("finds the location logs of keys that need escaping", async () => {
    const u = genUuid();
    const keys = [
      "WORM-s3-m1700000000--a&b%c:d_e.txt",
      "MD5E-s0--d41d8cd98f00b204e9800998ecf8427e.x_y",
    ];
    for (const text of keys) await annex(["setpresentkey", text, u, "1"]);
    await annex(["merge"]);
    const files = (
      await run("git", ["ls-tree", "-r", "--name-only", BRANCH_REF], { cwd: repo })
    ).split("\n");
    const branch = await AnnexBranch.open(git);
    try {
      for (const text of keys) {
        const k = parseKey(text);
        assert.ok(files.includes(locationLogPath(k)), locationLogPath(k));
        assert.deepEqual(await locationsOf(branch, k), [u]);
      }
    } finally {
      await branch.close();
    }
  });

  it("reads stock git-annex's uncommitted journal entries", async () => {
    const branch = await AnnexBranch.open(git);
    try {
      const u2 = genUuid();
      await annex(["setpresentkey", keyText(key), u2, "1"], undefined).then(() =>
        run(
          "git",
          [
            "-c",
            "annex.alwayscommit=false",
            "annex",
            "setpresentkey",
            keyText(key),
            genUuid(),
            "0",
          ],
          {
            cwd: repo,
          },
        ),
      );
      const path = locationLogPath(key);
      assert.ok(existsSync(join(git.gitDir, "annex", "journal", path.replaceAll("/", "_"))));
      assert.ok(!(await committed(path)).includes(u2), "not committed yet");
      assert.ok((await locationsOf(branch, key)).includes(u2));
      assert.deepEqual(await locationsOf(branch, key), await stockWhereis(key));
    } finally {
      await branch.close();
    }
  });

  it("writes the same log bytes as stock git-annex", async () => {
    const path = locationLogPath(key);
    const clock = 1700000000;
    const env = { GIT_ANNEX_VECTOR_CLOCK: String(clock) };
    const u = genUuid();
    for (const [uuid, bit] of [
      [u, "1"],
      [u, "0"],
      [here, "0"],
      [here, "1"],
    ] as const) {
      const branch = await AnnexBranch.open(git);
      const before = await branch.read(path);
      await branch.close();
      const next = setPresence(
        parsePresenceLog(before),
        bit === "1" ? "present" : "missing",
        uuid,
        clockFromSeconds(clock),
      );
      await annex(["setpresentkey", keyText(key), uuid, bit], env);
      await annex(["merge"]);
      assert.equal(await committed(path), next === null ? before : formatPresenceLog(next));
    }
    const before = await committed("uuid.log");
    await annex(["describe", "here", "renamed  by stock"], env);
    assert.equal(
      await committed("uuid.log"),
      formatUuidLog(
        changeMapLog(parseUuidLog(before), here, "renamed  by stock", clockFromSeconds(clock)),
      ),
    );
  });

  it("writes location logs that stock whereis, fsck and sync see", async () => {
    const path = locationLogPath(key);
    const added = genUuid();
    const stockOnes = (await stockWhereis(key)).filter((u) => u !== here);
    const removed = stockOnes[0] ?? "";
    assert.notEqual(removed, "");
    const branch = await AnnexBranch.open(git);
    await setLocation(branch, key, added, true);
    await setLocation(branch, key, removed, false);
    await branch.close();
    assert.ok(!existsSync(join(git.gitDir, "annex", "journal", path.replaceAll("/", "_"))));
    const expected = [...stockOnes.filter((u) => u !== removed), here, added].sort();
    assert.deepEqual(await stockWhereis(key), expected);
    assert.equal(await stockHas(key, removed), false);
    assert.equal(await stockHas(key, added), true);

    await annex(["fsck", "--quiet"]);
    await annex(["sync", "--quiet"]);
    assert.deepEqual(await stockWhereis(key), expected);

    const clone = join(tmp, "clone");
    await run("git", ["clone", "-q", repo, clone]);
    await annex(["init", "-q", "clone"], undefined, clone);
    await annex(["sync", "--quiet", "--no-content"], undefined, clone);
    assert.deepEqual(await stockWhereis(key, clone), expected);
    const reopened = await AnnexBranch.open(git);
    try {
      assert.deepEqual(await locationsOf(reopened, key), expected);
    } finally {
      await reopened.close();
    }
  });

  it("interleaved writes by both are never lost or reverted", async () => {
    const k = fakeKey();
    const expected = new Set<string>();
    const gone = new Set<string>();
    for (let i = 0; i < 4; i++) {
      // stock, committed
      const s = genUuid();
      await annex(["setpresentkey", keyText(k), s, "1"]);
      await annex(["merge"]);
      expected.add(s);
      // annexgate, committed
      const a = genUuid();
      let branch = await AnnexBranch.open(git);
      await setLocation(branch, k, a, true);
      await branch.commit();
      expected.add(a);
      // stock, only journalled; annexgate's next commit takes it along
      const j = genUuid();
      await run(
        "git",
        ["-c", "annex.alwayscommit=false", "annex", "setpresentkey", keyText(k), j, "1"],
        {
          cwd: repo,
        },
      );
      expected.add(j);
      // annexgate removes one of stock's, stock removes one of annexgate's
      await setLocation(branch, k, s, false);
      await branch.close();
      expected.delete(s);
      gone.add(s);
      await annex(["setpresentkey", keyText(k), a, "0"]);
      await annex(["merge"]);
      expected.delete(a);
      gone.add(a);
      // another stock write through a full command, after our commits
      const f = genUuid();
      await annex(["setpresentkey", keyText(k), f, "1"]);
      await annex(["fsck", "--fast", "--quiet"]);
      expected.add(f);

      branch = await AnnexBranch.open(git);
      try {
        assert.deepEqual(await locationsOf(branch, k), [...expected].sort(), `round ${i}`);
      } finally {
        await branch.close();
      }
      assert.deepEqual(await stockWhereis(k), [...expected].sort(), `round ${i}`);
    }
    await annex(["sync", "--quiet"]);
    assert.deepEqual(await stockWhereis(k), [...expected].sort());
    for (const u of gone) assert.equal(await stockHas(k, u), false);
  });

  it("auto-commits while stock git-annex writes at the same time", async () => {
    const ours = Array.from({ length: 8 }, () => fakeKey());
    const theirs = Array.from({ length: 8 }, () => fakeKey());
    const u = genUuid();
    const branch = await AnnexBranch.open(git);
    const errors: unknown[] = [];
    branch.startAutoCommit({ delayMs: 20, onError: (e) => errors.push(e) });
    try {
      const stock = (async () => {
        for (const k of theirs) {
          await annex(["setpresentkey", keyText(k), u, "1"]);
          await annex(["merge"]);
        }
      })();
      const mine = (async () => {
        for (const k of ours) {
          await setLocation(branch, k, u, true);
          await new Promise((r) => setTimeout(r, 30));
        }
      })();
      await Promise.all([stock, mine]);
    } finally {
      await branch.close();
    }
    assert.deepEqual(errors, []);
    for (const k of [...ours, ...theirs]) {
      assert.equal(await stockHas(k, u), true, keyText(k));
    }
    const reopened = await AnnexBranch.open(git);
    try {
      for (const k of [...ours, ...theirs]) assert.deepEqual(await locationsOf(reopened, k), [u]);
    } finally {
      await reopened.close();
    }
  });
});
