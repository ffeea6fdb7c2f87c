/**
 * A large journal left by stock git-annex (`setpresentkey --batch` with
 * annex.alwayscommit=false writes one journal file per key and commits
 * none) is committed by annexgate: `annexgate info` used to open one
 * temporary file per entry at once and fail with EMFILE. It runs here with
 * a low open-file limit, so a journal far smaller than the one that failed
 * in the field still shows the bug; 100,000 entries are in
 * bench/journal.ts (stock git-annex needs about a millisecond per key to
 * make them, too slow for this test). The commit must hold the tree stock
 * git-annex makes of the same journal, and a second `info` must answer
 * from the sizes cached at that commit.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const ENTRIES = 5000;
/** Far below the entry count: committing must not open a file per entry. */
const OPEN_FILES = 256;

let tmp: string;
before(async () => {
  await requireGitAnnex();
  tmp = await makeTempDir("annexgate-journal-");
});
after(async () => {
  if (tmp !== undefined) await removeDir(tmp);
});

/** Keys of distinct sizes, so the repository size says every one was counted. */
function keyLines(uuid: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const hash = createHash("sha256").update(String(i)).digest("hex");
    lines.push(`SHA256E-s${1000 + i}--${hash} ${uuid} 1\n`);
  }
  return lines.join("");
}

interface Sizes {
  readonly repos: unknown;
  readonly combined: unknown;
}

function sizesOf(json: string): Sizes {
  const o = JSON.parse(json) as Record<string, unknown>;
  const repos = (o["annex sizes of repositories"] as { uuid: string; size: string }[]).map((r) => [
    r.uuid,
    r.size,
  ]);
  return { repos, combined: o["combined annex size of all repositories"] };
}

describe("a large journal left by stock git-annex", () => {
  it(`annexgate info commits ${ENTRIES} journal entries with ${OPEN_FILES} open files as stock would, agrees with git annex info, and answers again from its cache`, {
    timeout: 10 * 60_000,
  }, async () => {
    const repo = await gitAnnexRepo(join(tmp, "repo"), "journal test");
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
    await run("git", ["-c", "annex.alwayscommit=false", "annex", "setpresentkey", "--batch"], {
      cwd: repo,
      input: keyLines(uuid, ENTRIES),
    });
    const journal = join(repo, ".git", "annex", "journal");
    assert.equal((await readdir(journal)).length, ENTRIES, "stock git-annex left the journal");

    // A copy for stock git-annex to commit the same journal in.
    const stockRepo = join(tmp, "stock");
    await run("cp", ["-a", repo, stockRepo]);

    const info = async (): Promise<{ sizes: Sizes; debug: string }> => {
      const out = await run(
        "sh",
        [
          "-c",
          `ulimit -n ${OPEN_FILES} && exec "$0" "$1" info --json --bytes --debug 2>&1`,
          process.execPath,
          CLI,
        ],
        { cwd: repo },
      );
      const lines = out.split("\n");
      const json = lines.find((l) => l.startsWith("{")) ?? "";
      const debug = lines.find((l) => l.startsWith("[annexgate] repository sizes:")) ?? "";
      return { sizes: sizesOf(json), debug };
    };
    const first = await info();
    assert.deepEqual(await readdir(journal), [], "the journal was committed");
    const expected = (ENTRIES * 1000 + (ENTRIES * (ENTRIES - 1)) / 2).toString();
    assert.equal(first.sizes.combined, expected);
    const tip = (await run("git", ["rev-parse", "refs/heads/git-annex"], { cwd: repo })).trim();
    // The sizes were computed at the commit that holds the journal, and cached there.
    assert.match(first.debug, new RegExp(` commit=${tip} journal-logs=0$`));
    const cache = JSON.parse(
      await readFile(join(repo, ".git", "annex", "annexgate", "repo-sizes.json"), "utf8"),
    ) as { commit: string };
    assert.equal(cache.commit, tip);

    // The second run answers from that cache: no scan, no journal.
    const second = await info();
    assert.match(second.debug, new RegExp(`how=cached commit=${tip} journal-logs=0$`));
    assert.deepEqual(second.sizes, first.sizes);

    // Stock git-annex committing the same journal makes the same tree,
    // and reads the same sizes from annexgate's commit.
    await run("git", ["annex", "info", "--json", "--bytes"], { cwd: stockRepo });
    assert.deepEqual(await readdir(join(stockRepo, ".git", "annex", "journal")), []);
    const treeOf = async (dir: string) =>
      (await run("git", ["rev-parse", "refs/heads/git-annex^{tree}"], { cwd: dir })).trim();
    assert.equal(await treeOf(repo), await treeOf(stockRepo));
    const stock = sizesOf(await run("git", ["annex", "info", "--json", "--bytes"], { cwd: repo }));
    assert.deepEqual(first.sizes, stock);
  });
});
