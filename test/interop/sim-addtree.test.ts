/**
 * `addtree` against stock `git annex sim`, in a real repository of
 * annexed files (locked and unlocked, in subdirectories, some with a
 * location log naming another repository): the same files are added,
 * with the same keys, to the same simulated repository, and what the sim
 * then does is the same — from the top of the repository and from a
 * subdirectory, and with expressions that need the location log.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import { annexgateSim, seen, stockSim } from "../helpers/sim.js";

const stock = stockSim;
const ours = annexgateSim;

const SIM = (expr: string) => `seed 9
init foo
init bar
connect foo -> bar
wanted bar include=*.mp3 or include=docs/*
addtree foo ${expr}
stepstable 50
visit foo git-annex whereis
`;

describe("annexgate sim addtree: the files of a real repository, as stock adds them", {
  concurrency: 1,
}, () => {
  let tmp = "";
  let repo = "";
  before(async () => {
    await requireGitAnnex();
    tmp = await makeTempDir("annexgate-simaddtree-");
    repo = await gitAnnexRepo(join(tmp, "repo"), "real");
    const git = (...args: string[]) => run("git", args, { cwd: repo });
    await mkdir(join(repo, "music", "live"), { recursive: true });
    await mkdir(join(repo, "docs"), { recursive: true });
    const files: [string, string][] = [
      ["music/a.mp3", "aaa"],
      ["music/live/b.mp3", "bbbb"],
      ["music/c.flac", "ccccc"],
      ["docs/readme.txt", "dddddd"],
      ["top.mp3", "eeeeeee"],
    ];
    for (const [f, body] of files) await writeFile(join(repo, f), body.repeat(1000));
    await git("annex", "add", "--quiet", ".");
    // One unlocked file (a pointer file in the index), one known elsewhere.
    await writeFile(join(repo, "music", "u.mp3"), "u".repeat(4000));
    await git("annex", "add", "--quiet", "--force-small", "--", "music/u.mp3").catch(() => "");
    await git("annex", "unlock", "music/u.mp3").catch(() => "");
    await git("commit", "-q", "-m", "files");
    const elsewhere = (await git("annex", "lookupkey", "music/a.mp3")).trim();
    await git("annex", "setpresentkey", elsewhere, "00000000-0000-4000-8000-000000000001", "1");
  });
  after(() => removeDir(tmp));
  beforeEach(async () => {
    await stock(repo, "end");
    await ours(repo, "end");
  });

  for (const [name, expr, where] of [
    ["every annexed file, from the top", "anything", "."],
    ["a glob, from the top", "include=*.mp3", "."],
    ["from a subdirectory: only its files, named from there", "anything", "music"],
    ["an expression on the location log", "copies=2", "."],
  ] as const) {
    it(`${name}: the same log and whereis as stock's`, async () => {
      const file = join(tmp, `${name.length}.sim`);
      await writeFile(file, SIM(expr));
      const cwd = join(repo, where);
      const s = await stock(cwd, "start", file);
      assert.equal(s.code, 0, s.stderr);
      const o = await ours(cwd, "start", file);
      assert.deepEqual(seen(o), seen(s));
      const [sl, ol] = [await stock(cwd, "show"), await ours(cwd, "show")];
      assert.match(sl.stdout, /^addtree foo /m);
      assert.equal(ol.stdout, sl.stdout);
      if (expr === "anything") assert.match(s.stdout, /whereis \S+\.mp3/);
    });
  }

  it("a glob sees a sim file from the simulated repository's directory, as stock's does", async () => {
    // Stock matches `include=docs/*` against ../../../../docs/x (the name
    // from .git/annex/sim/UUID), so it matches nothing; from a subdirectory
    // the path names that directory too.
    const sent: string[] = [];
    for (const [where, globs] of [
      [".", ["docs/*", "../../../../docs/*", "*/docs/*"]],
      ["music", ["docs/*", "../../../../music/docs/*"]],
    ] as const) {
      for (const glob of globs) {
        const file = join(tmp, "glob.sim");
        await writeFile(
          file,
          `seed 2\ninit foo\ninit bar\nconnect foo -> bar\nwanted bar include=${glob}\n` +
            "add docs/x 1M foo\nadd y 1M foo\nstepstable 20\n",
        );
        const cwd = join(repo, where);
        assert.equal((await stock(cwd, "start", file)).code, 0);
        assert.equal((await ours(cwd, "start", file)).code, 0);
        const [sl, ol] = [await stock(cwd, "show"), await ours(cwd, "show")];
        assert.equal(ol.stdout, sl.stdout, `include=${glob} in ${where}`);
        if (/^present bar docs\/x$/m.test(sl.stdout)) sent.push(`${where} ${glob}`);
        await stock(cwd, "end");
        await ours(cwd, "end");
      }
    }
    assert.deepEqual(sent, [
      ". ../../../../docs/*",
      ". */docs/*",
      "music ../../../../music/docs/*",
    ]);
  });
});
