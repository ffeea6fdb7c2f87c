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
 * from the sizes cached at that commit. A gateway serving a repository
 * with such a journal goes on serving uploads, and commits the journal
 * with its own changes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import { annexHttpClone, startAnnexgate } from "../helpers/servers.js";

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
function keyLines(uuid: string, n: number, from = 0): string {
  const lines: string[] = [];
  for (let i = from; i < from + n; i++) {
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

describe("a gateway serving a repository with a large journal left by stock git-annex", () => {
  it(`keeps serving uploads and commits the ${ENTRIES} entries with them, as stock reads them`, {
    timeout: 10 * 60_000,
  }, async () => {
    const gw = await gitAnnexRepo(join(tmp, "gw"), "gateway");
    // The entries say some other repository holds these keys.
    const elsewhere = "00000000-0000-4000-8000-0000000e15e1";
    await run("git", ["-c", "annex.alwayscommit=false", "annex", "setpresentkey", "--batch"], {
      cwd: gw,
      input: keyLines(elsewhere, ENTRIES),
    });
    const journal = join(gw, ".git", "annex", "journal");
    assert.equal((await readdir(journal)).length, ENTRIES, "stock git-annex left the journal");

    const server = await startAnnexgate(gw, ["--wideopen"]);
    try {
      const client = await annexHttpClone(gw, join(tmp, "client"), server.port);
      const git = (...a: string[]) => run("git", a, { cwd: client });
      const files = Array.from({ length: 8 }, (_, i) => `upload${i}.dat`);
      for (const f of files) await writeRandomFile(join(client, f), 20_000 + files.indexOf(f));
      await git("annex", "add", "-q", ...files);
      await git("commit", "-q", "-m", "uploads");
      await git("annex", "copy", "-q", "-J4", "--to", "origin", ...files);

      // The server commits its journal (the stock entries with its own)
      // within a second of its last change: wait for it, bounded.
      await waitFor("the gateway to commit the journal", async () => {
        const left = await readdir(journal).catch(() => []);
        return left.length === 0;
      });
      const gwUuid = (await run("git", ["config", "annex.uuid"], { cwd: gw })).trim();
      // Stock git-annex, reading the gateway's branch: every upload is on
      // the gateway, and the stock entries are all there.
      const keys = await Promise.all(
        files.map(async (f) => (await git("annex", "lookupkey", f)).trim()),
      );
      for (const key of keys) {
        const where = await run("git", ["annex", "whereis", "--key", key], { cwd: gw });
        assert.ok(where.includes(gwUuid), where);
      }
      const sizes = sizesOf(await run("git", ["annex", "info", "--json", "--bytes"], { cwd: gw }))
        .repos as [string, string][];
      const held = new Map(sizes);
      assert.equal(
        held.get(elsewhere),
        (ENTRIES * 1000 + (ENTRIES * (ENTRIES - 1)) / 2).toString(),
      );
      const uploaded = files.reduce((n, _, i) => n + 20_000 + i, 0);
      assert.equal(held.get(gwUuid), String(uploaded));
      // And the content stored is what the client sent.
      for (const key of keys) await run("git", ["annex", "fsck", "-q", "--key", key], { cwd: gw });
    } finally {
      await server.stop();
    }
  });
});

describe("a journal of 100,000 entries left by stock git-annex", () => {
  const LARGE = 100_000;
  const MAKERS = 4;
  it(`annexgate info --json --bytes commits ${LARGE} entries and agrees with stock git-annex`, {
    timeout: 15 * 60_000,
  }, async () => {
    const repo = await gitAnnexRepo(join(tmp, "large"), "large journal");
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
    // Stock git-annex takes about a millisecond a key: several batch
    // processes share the work (each journal write is under its lock).
    const share = LARGE / MAKERS;
    await Promise.all(
      Array.from({ length: MAKERS }, (_, m) =>
        run("git", ["-c", "annex.alwayscommit=false", "annex", "setpresentkey", "--batch"], {
          cwd: repo,
          input: keyLines(uuid, share, m * share),
        }),
      ),
    );
    const journal = join(repo, ".git", "annex", "journal");
    assert.equal((await readdir(journal)).length, LARGE, "stock git-annex left the journal");
    const out = await run(
      "sh",
      [
        "-c",
        `ulimit -n ${OPEN_FILES} && exec "$0" "$1" info --json --bytes`,
        process.execPath,
        CLI,
      ],
      { cwd: repo },
    );
    const ours = sizesOf(out);
    assert.deepEqual(await readdir(journal), [], "the journal was committed");
    assert.equal(ours.combined, (LARGE * 1000 + (LARGE * (LARGE - 1)) / 2).toString());
    // Stock git-annex reads the same sizes from annexgate's commit.
    const stock = sizesOf(await run("git", ["annex", "info", "--json", "--bytes"], { cwd: repo }));
    assert.deepEqual(ours, stock);
  });
});
