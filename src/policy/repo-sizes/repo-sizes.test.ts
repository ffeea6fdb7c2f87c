import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { describe, it } from "node:test";
import fc from "fast-check";
import { prng } from "../../../test/helpers/prng.js";
import { scratchGitRepos } from "../../../test/helpers/scratch.js";
import {
  AnnexBranch,
  BRANCH_REF,
  locationLogPath,
  presentUuids,
  setLocation,
} from "../../branch/index.js";
import { Git, GitError } from "../../git/index.js";
import { genClusterUuid, genUuid, parseKey } from "../../keys/index.js";
import {
  accountKey,
  computeRepoSizes,
  currentRepoSizes,
  locationLogKeySize,
  repoSizesCachePath,
  updateRepoSizes,
} from "../index.js";
import { presentInLog } from "./compute.js";

const newRepoDir = scratchGitRepos();

async function newRepo(): Promise<Git> {
  return Git.open(await newRepoDir());
}

function nonZero(m: ReadonlyMap<string, bigint>): Map<string, bigint> {
  return new Map([...m].filter(([, v]) => v !== 0n).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe("locationLogKeySize", () => {
  it("reads the size from a location log's name", () => {
    assert.equal(locationLogKeySize("f85/0a5/SHA256E-s5--abc.txt.log"), 5n);
    assert.equal(locationLogKeySize("f85/0a5/WORM-s12-m1700000000--a&cb%c.log"), 12n);
    assert.equal(
      locationLogKeySize("f85/0a5/SHA256E-s99999999999999999999--x.log"),
      99999999999999999999n,
    );
    assert.equal(locationLogKeySize("f85/0a5/URL--http&c%%example.com%a.log"), null);
    assert.equal(locationLogKeySize("f85/0a5/WORM-m5--x.log"), null);
  });

  it("is undefined for other files of the branch", () => {
    for (const p of [
      "uuid.log",
      "f85/0a5/SHA256E-s5--abc.txt.log.met",
      "f85/0a5/SHA256E-s5--abc.txt.log.web",
      "f85/SHA256E-s5--abc.txt.log",
      "a/b/c/SHA256E-s5--abc.txt.log",
      "f85/0a5/nokey.log",
      "f85/0a5/-s5--x.log",
      "export.log",
    ]) {
      assert.equal(locationLogKeySize(p), undefined, p);
    }
  });
});

describe("presentInLog", () => {
  it("agrees with the full presence-log parser on any log", () => {
    const line = fc.oneof(
      fc
        .tuple(
          fc.oneof(
            fc.integer({ min: 0, max: 30 }).map((n) => `${n}s`),
            fc.integer({ min: 0, max: 30 }).map((n) => `${n}.5`),
            fc.constantFrom("-3s", "1.2.3s", "x", "", "7"),
          ),
          fc.constantFrom("1", "0", "X", "2"),
          fc.constantFrom("u1", "u2", "u3", "", "u 4"),
        )
        .map(([c, st, u]) => `${c} ${st} ${u}`),
      fc.constantFrom("garbage", "", "\r", "1s 1"),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.constantFrom("\n", "\r\n"), (ls, nl) => {
        const text = ls.map((l) => `${l}${nl}`).join("");
        assert.deepEqual([...presentInLog(text)].sort(), [...presentUuids(text)].sort(), text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("accountKey", () => {
  it("adds new copies, removes gone ones, leaves re-recorded ones", () => {
    const m = new Map<string, bigint>([["a", 10n]]);
    accountKey(m, 5n, ["a"], ["a", "b"]);
    assert.deepEqual(
      m,
      new Map([
        ["a", 10n],
        ["b", 5n],
      ]),
    );
    accountKey(m, 5n, ["a", "b"], ["b"]);
    assert.deepEqual(
      m,
      new Map([
        ["a", 5n],
        ["b", 5n],
      ]),
    );
    accountKey(m, null, [], ["c"]); // unsized: enters at 0
    assert.equal(m.get("c"), 0n);
    accountKey(m, 7n, ["d"], []); // never counted: stays out
    assert.equal(m.has("d"), false);
  });
});

describe("repository sizes from a branch", () => {
  it("full, incremental and cached computations agree with the logs over a random history", async () => {
    const git = await newRepo();
    const branch = await AnnexBranch.open(git);
    const rand = prng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const uuids = [genUuid(), genUuid(), genUuid(), genUuid()];
    const cluster = genClusterUuid();
    const keys = Array.from({ length: 25 }, (_, i) =>
      parseKey(i % 7 === 0 ? `WORM-m1--nosize${i}` : `WORM-s${1 + i * 1000}-m1--f${i}`),
    );
    /** key index -> UUIDs the model says have it */
    const model = new Map<number, Set<string>>();
    const expected = () => {
      const m = new Map<string, bigint>();
      for (const [k, us] of model) {
        for (const u of us) m.set(u, (m.get(u) ?? 0n) + BigInt(keys[k]?.size ?? 0));
      }
      return m;
    };
    let clock = 1_700_000_000;
    let previous: { commit: string; sizes: Map<string, bigint> } | null = null;
    const deadline = Date.now() + 60_000;
    for (let step = 0; step < 12 && Date.now() < deadline; step++) {
      for (let op = 0; op < 6; op++) {
        const k = Math.floor(rand() * keys.length);
        const key = keys[k];
        if (key === undefined) continue;
        const u = pick(uuids);
        const have = model.get(k) ?? new Set<string>();
        const r = rand();
        if (r < 0.5) {
          await setLocation(branch, key, u, true);
          have.add(u);
        } else if (r < 0.75) {
          await setLocation(branch, key, u, false);
          have.delete(u);
        } else if (r < 0.9) {
          // a newer line re-recording a copy (present or not) that is already so
          clock += 1;
          const status = have.has(u) ? "1" : "0";
          await branch.change(locationLogPath(key), (old) => `${old}${clock}s ${status} ${u}\n`);
        } else {
          // a cluster UUID logged as present must never count
          clock += 1;
          await branch.change(locationLogPath(key), (old) => `${old}${clock}s 1 ${cluster}\n`);
        }
        model.set(k, have);
      }
      await branch.commit();
      const commit = await git.revParse(BRANCH_REF);
      assert.ok(commit !== null);
      const full = await computeRepoSizes(git, commit);
      assert.deepEqual(nonZero(full), nonZero(expected()), `full, step ${step}`);
      if (previous !== null) {
        const inc = await updateRepoSizes(git, previous.sizes, previous.commit, commit);
        assert.deepEqual(nonZero(inc), nonZero(full), `incremental, step ${step}`);
      }
      const report = await currentRepoSizes(git);
      assert.equal(report.how, step === 0 ? "full" : "incremental");
      assert.deepEqual(nonZero(report.sizes), nonZero(full));
      assert.equal((await currentRepoSizes(git)).how, "cached");
      previous = { commit, sizes: full };
    }
    await branch.close();
  });

  it("adds journalled changes, and known repositories at 0", async () => {
    const git = await newRepo();
    const branch = await AnnexBranch.open(git);
    const [a, b, c] = [genUuid(), genUuid(), genUuid()];
    const key = parseKey("WORM-s100-m1--x");
    await setLocation(branch, key, a, true);
    await branch.change("uuid.log", () => `${c} nothing here timestamp=1700000000s\n`);
    await branch.commit();
    await setLocation(branch, key, b, true);
    await setLocation(branch, key, a, false);
    const r = await currentRepoSizes(git);
    assert.equal(r.sizes.get(a), 0n);
    assert.equal(r.sizes.get(b), 100n);
    assert.equal(r.sizes.get(c), 0n);
    const committedOnly = await currentRepoSizes(git, { ignoreJournal: true });
    assert.equal(committedOnly.sizes.get(a), 100n);
    assert.equal(committedOnly.sizes.has(b), false);
    await branch.close();
  });

  it("a commit that is not there is a GitError", async () => {
    const git = await newRepo();
    await assert.rejects(computeRepoSizes(git, "2".repeat(40)), GitError);
    await assert.rejects(computeRepoSizes(git, "no-such-ref"), GitError);
  });

  it("recomputes in full when the cache is damaged or its commit is gone", async () => {
    const git = await newRepo();
    const branch = await AnnexBranch.open(git);
    const a = genUuid();
    await setLocation(branch, parseKey("WORM-s7-m1--y"), a, true);
    await branch.commit();
    let fulls = 0;
    const onFullComputation = () => {
      fulls += 1;
    };
    await currentRepoSizes(git, { onFullComputation });
    await writeFile(repoSizesCachePath(git), "{not json");
    assert.equal((await currentRepoSizes(git, { onFullComputation })).sizes.get(a), 7n);
    await writeFile(
      repoSizesCachePath(git),
      JSON.stringify({ version: 1, commit: "1".repeat(40), sizes: { [a]: "1" } }),
    );
    const r = await currentRepoSizes(git, { onFullComputation });
    assert.equal(r.how, "full");
    assert.equal(r.sizes.get(a), 7n);
    assert.equal(fulls, 3);
    await branch.close();
  });
});
