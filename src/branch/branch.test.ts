import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { scratchGitRepos } from "../../test/helpers/scratch.js";
import { Git } from "../git/index.js";
import { parseKey } from "../keys/index.js";
import {
  AnnexBranch,
  BRANCH_REF,
  BranchError,
  locationLogPath,
  locationsOf,
  setLocation,
} from "./index.js";

const newRepoDir = scratchGitRepos();

async function newRepo(bare = true): Promise<Git> {
  return Git.open(await newRepoDir({ bare }));
}

/** Runs `body` with the branch of a fresh bare repository, closed after. */
async function withBranch(body: (branch: AnnexBranch, git: Git) => Promise<void>): Promise<void> {
  const git = await newRepo();
  const branch = await AnnexBranch.open(git);
  try {
    await body(branch, git);
  } finally {
    await branch.close();
  }
}

async function show(git: Git, path: string, ref = BRANCH_REF): Promise<string> {
  return (await git.run(["cat-file", "blob", `${ref}:${path}`])).toString();
}

/**
 * Polls `ready` until it holds: what it waits for is an event (a commit, a
 * file gone), bounded by count and time so a bug cannot hang the run.
 */
async function waitFor(ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the awaited change did not happen within 60 s");
}

async function journalFiles(git: Git): Promise<string[]> {
  return readdir(join(git.gitDir, "annex", "journal")).catch(() => []);
}

/** Commits `files` onto the branch the way another writer would (no journal). */
async function commitBehindOurBack(
  git: Git,
  files: Record<string, string>,
  parent: string,
): Promise<string> {
  const paths = Object.keys(files);
  const shas = await git.hashObjects(paths.map((p) => files[p] ?? ""));
  const tree = await git.editTree(
    `${parent}^{tree}`,
    paths.map((path, i) => ({ path, sha: shas[i] ?? null })),
  );
  return git.commitTree({ tree, parents: [parent], message: "other writer" });
}

const KEY = parseKey(
  "SHA256E-s5--5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03.txt",
);

describe("AnnexBranch", () => {
  it("creates the branch as an empty 'branch created' commit", async () => {
    const git = await newRepo();
    const branch = await AnnexBranch.open(git);
    await branch.close();
    const tip = await git.revParse(BRANCH_REF);
    assert.ok(tip !== null);
    assert.equal(
      (await git.run(["log", "--format=%s", BRANCH_REF])).toString(),
      "branch created\n",
    );
    assert.equal((await git.run(["ls-tree", BRANCH_REF])).toString(), "");
  });

  it("creates the branch from origin/git-annex when there is one", async () => {
    const git = await newRepo();
    const tree = await git.mktree([]);
    const c = await git.commitTree({ tree, parents: [], message: "from origin" });
    await git.updateRef("refs/remotes/origin/git-annex", c, null);
    const branch = await AnnexBranch.open(git);
    await branch.close();
    assert.equal(await git.revParse(BRANCH_REF), c);
  });

  it("reads the journal in preference to the branch", async () => {
    const git = await newRepo();
    const branch = await AnnexBranch.open(git);
    try {
      const tip = (await git.revParse(BRANCH_REF)) ?? "";
      const c = await commitBehindOurBack(git, { "a/b_c.log": "committed\n" }, tip);
      await git.updateRef(BRANCH_REF, c, tip);
      assert.equal(await branch.read("a/b_c.log"), "committed\n");
      assert.equal(await branch.read("nothing.log"), "");
      await mkdir(join(git.gitDir, "annex", "journal"), { recursive: true });
      await writeFile(join(git.gitDir, "annex", "journal", "a_b__c.log"), "journalled\npartial");
      assert.equal(await branch.read("a/b_c.log"), "journalled\n");
    } finally {
      await rm(join(git.gitDir, "annex", "journal"), { recursive: true, force: true });
      await branch.close();
    }
  });

  it("changes go to the journal and commits take them to the branch", () =>
    withBranch(async (branch, git) => {
      assert.equal(await branch.change("x/y.log", (old) => `${old}one\n`), true);
      assert.equal(await branch.change("x/y.log", (old) => old), false);
      assert.deepEqual(await journalFiles(git), ["x_y.log"]);
      const before = await git.revParse(BRANCH_REF);
      const commit = await branch.commit();
      assert.ok(commit !== null);
      assert.equal(await git.revParse(BRANCH_REF), commit);
      assert.equal(await git.revParse(`${commit}^`), before);
      assert.equal(await show(git, "x/y.log"), "one\n");
      assert.deepEqual(await journalFiles(git), []);
      assert.equal(await branch.read("x/y.log"), "one\n");
      assert.equal(await branch.commit(), null, "nothing left to commit");
      const msg = (await git.run(["log", "-1", "--format=%s", BRANCH_REF])).toString();
      assert.equal(msg, "update\n");
    }));

  it("refuses content without a final newline, and odd paths", () =>
    withBranch(async (branch) => {
      await assert.rejects(
        branch.change("a.log", () => "no newline"),
        BranchError,
      );
      for (const bad of ["", "/abs", "a//b", "../x", "a/./b", "a\nb", "a/_b"]) {
        await assert.rejects(
          branch.change(bad, () => "x\n"),
          BranchError,
          bad,
        );
      }
    }));

  it("serialises concurrent changes to one path", () =>
    withBranch(async (branch, git) => {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => branch.change("many.log", (old) => `${old}${i}\n`)),
      );
      await branch.commit();
      const lines = (await show(git, "many.log")).split("\n").filter((l) => l !== "");
      assert.deepEqual(
        lines,
        Array.from({ length: 50 }, (_, i) => String(i)),
      );
    }));

  it("builds on a journal file another process rewrote during a change", () =>
    withBranch(async (branch, git) => {
      await branch.change("r.log", () => "a\n");
      const seen: string[] = [];
      await branch.change("r.log", (old) => {
        seen.push(old);
        if (seen.length === 1) {
          // e.g. stock git-annex, which does not see our locks
          writeFileSync(join(git.gitDir, "annex", "journal", "r.log"), "a\nb\n");
        }
        return `${old}c\n`;
      });
      assert.deepEqual(seen, ["a\n", "a\nb\n"]);
      assert.equal(await branch.read("r.log"), "a\nb\nc\n");
    }));

  it("keeps a journal file that changed after it was committed", () =>
    withBranch(async (branch, git) => {
      await branch.change("k.log", () => "v1\n");
      // Another writer replaces the journal file while our commit runs.
      const realCommit = git.commitFiles.bind(git);
      git.commitFiles = async (opts) => {
        await writeFile(join(git.gitDir, "annex", "journal", "k.log"), "v2\n");
        return realCommit(opts);
      };
      await branch.commit();
      git.commitFiles = realCommit;
      assert.equal(await show(git, "k.log"), "v1\n");
      assert.deepEqual(await journalFiles(git), ["k.log"]);
      assert.equal(await branch.read("k.log"), "v2\n");
      await branch.commit();
      assert.equal(await show(git, "k.log"), "v2\n");
      assert.deepEqual(await journalFiles(git), []);
    }));

  it("CAS conflict: retries on the moved branch and union-merges files it changed", () =>
    withBranch(async (branch, git) => {
      await branch.change("shared.log", () => "ours\n");
      await branch.change("mine.log", () => "mine\n");
      const realUpdate = git.updateRef.bind(git);
      let calls = 0;
      git.updateRef = async (ref, sha, old, reason) => {
        calls += 1;
        if (calls === 1 && old !== null) {
          // Someone else commits first.
          const c = await commitBehindOurBack(
            git,
            { "shared.log": "theirs\n", "other.log": "other\n" },
            old,
          );
          assert.equal(await realUpdate(ref, c, old), true);
        }
        return realUpdate(ref, sha, old, reason);
      };
      const commit = await branch.commit();
      git.updateRef = realUpdate;
      assert.equal(calls, 2);
      assert.equal(await git.revParse(BRANCH_REF), commit);
      assert.equal(await show(git, "shared.log"), "ours\ntheirs\n");
      assert.equal(await show(git, "mine.log"), "mine\n");
      assert.equal(await show(git, "other.log"), "other\n");
      assert.deepEqual(await journalFiles(git), []);
    }));

  it("gives up with AG_BRANCH_CONFLICT when the branch never holds still", () =>
    withBranch(async (branch, git) => {
      await branch.change("a.log", () => "a\n");
      const realUpdate = git.updateRef.bind(git);
      git.updateRef = async () => false;
      await assert.rejects(branch.commit(), (e: unknown) => {
        return e instanceof BranchError && e.code === "AG_BRANCH_CONFLICT";
      });
      git.updateRef = realUpdate;
      assert.deepEqual(await journalFiles(git), ["a.log"], "the journal still has the change");
    }));

  it("merges back a commit of ours that another writer overwrote", () =>
    withBranch(async (branch, git) => {
      const base = (await git.revParse(BRANCH_REF)) ?? "";
      await branch.change("ours.log", () => "ours\n");
      const ours = (await branch.commit()) ?? "";
      // A non-atomic update-ref from a writer that started at `base`.
      const theirs = await commitBehindOurBack(git, { "theirs.log": "theirs\n" }, base);
      await git.run(["update-ref", BRANCH_REF, theirs]);
      const recovered = await branch.commit();
      assert.ok(recovered !== null);
      const parents = (await git.run(["log", "-1", "--format=%P", recovered])).toString().trim();
      assert.deepEqual(parents.split(" "), [theirs, ours]);
      assert.equal(await show(git, "ours.log"), "ours\n");
      assert.equal(await show(git, "theirs.log"), "theirs\n");
      assert.equal(await branch.commit(), null);
    }));

  it("recovers a journal write that another writer removed without committing it", () =>
    withBranch(async (branch, git) => {
      await branch.change("lost.log", () => "1s 1 u\n");
      await rm(join(git.gitDir, "annex", "journal", "lost.log"));
      await branch.commit();
      assert.equal(await show(git, "lost.log"), "1s 1 u\n");
    }));

  it("auto-commits once per burst of changes, within the delay", () =>
    withBranch(async (branch, git) => {
      const errors: unknown[] = [];
      branch.startAutoCommit({ delayMs: 100, onError: (e) => errors.push(e) });
      const start = (await git.revParse(BRANCH_REF)) ?? "";
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => branch.change(`f${i}.log`, () => `${i}\n`)),
      );
      // Wait for the commit itself (a loaded machine may take seconds), then
      // for the journal to be emptied, which ends the burst.
      const count = async () =>
        (await git.run(["rev-list", "--count", `${start}..${BRANCH_REF}`])).toString();
      await waitFor(
        async () => (await count()) !== "0\n" && (await journalFiles(git)).length === 0,
      );
      assert.equal(await count(), "1\n");
      assert.equal(await show(git, "f9.log"), "9\n");
      assert.deepEqual(await journalFiles(git), []);
      await branch.change("later.log", () => "later\n");
      await waitFor(async () => (await show(git, "later.log").catch(() => "")) === "later\n");
      assert.deepEqual(errors, []);
    }));

  it("close() commits pending changes, then refuses use", async () => {
    const git = await newRepo();
    const branch = await AnnexBranch.open(git);
    branch.startAutoCommit({ delayMs: 60_000 });
    await setLocation(branch, KEY, "00000000-0000-0000-0000-000000000001", true);
    await branch.close();
    await branch.close();
    assert.match(
      await show(git, locationLogPath(KEY)),
      /^\d+s 1 00000000-0000-0000-0000-000000000001\n$/,
    );
    await assert.rejects(branch.read("uuid.log"), BranchError);
    await assert.rejects(branch.commit(), BranchError);
  });

  it("location log helpers", () =>
    withBranch(async (branch) => {
      const [u1, u2] = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
      ];
      assert.equal(await setLocation(branch, KEY, u2, true), true);
      assert.equal(await setLocation(branch, KEY, u1, true), true);
      assert.equal(await setLocation(branch, KEY, u1, true), false);
      assert.deepEqual(await locationsOf(branch, KEY), [u1, u2]);
      await branch.commit();
      assert.equal(await setLocation(branch, KEY, u2, false), true);
      assert.deepEqual(await locationsOf(branch, KEY), [u1]);
      // a cluster UUID is never logged
      assert.equal(
        await setLocation(branch, KEY, "ac000000-0000-8000-8000-000000000000", true),
        false,
      );
    }));

  it("commits without a configured git identity", async () => {
    const git = await newRepo();
    await git.configSet("user.useConfigOnly", "true");
    const saved = { ...process.env };
    process.env.GIT_CONFIG_GLOBAL = "/dev/null";
    process.env.GIT_CONFIG_NOSYSTEM = "1";
    for (const v of [
      "GIT_AUTHOR_NAME",
      "GIT_AUTHOR_EMAIL",
      "GIT_COMMITTER_NAME",
      "GIT_COMMITTER_EMAIL",
      "EMAIL",
    ]) {
      delete process.env[v];
    }
    try {
      const isolated = await Git.open(git.dir);
      await assert.rejects(isolated.run(["var", "GIT_COMMITTER_IDENT"]));
      const branch = await AnnexBranch.open(isolated);
      await branch.change("a.log", () => "a\n");
      await branch.close();
      assert.equal(await show(git, "a.log"), "a\n");
    } finally {
      process.env = saved;
    }
  });
});
