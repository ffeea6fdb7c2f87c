/**
 * `visit` against stock `git annex sim`: the simulated repository's view
 * made a real repository, and stock git-annex commands run in it, print
 * what they print in stock's own sim — `whereis` (text and JSON) and
 * `maxsize` — through split brain (repositories that see different
 * location logs), numcopies, trust, groups and a maxsize; in one `sim
 * run` and across separate invocations against a started sim; and a
 * visit whose command fails ends the same way. Then metadata: `git annex
 * metadata` (text and JSON), `find --metadata` and `metadata=` preferred
 * content in the visited repositories, the metadata logs themselves, and
 * what else git-annex's clones hold (the configuration logs, no remotes
 * for connections or cluster nodes, the work tree set-up), compared with
 * stock's with the clocks blanked.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { type Outcome, removeDir } from "../helpers/index.js";
import { annexgateSim, seen, simScratch, stockSim } from "../helpers/sim.js";

const SETUP = `seed 4
init foo
init bar
init baz
initremote sp
connect foo <-> bar
connect foo -> sp
connect bar <-> baz
group bar store
group baz store
wanted bar anything
wanted baz include=*.x
wanted sp include=*.x and largerthan=3MB
maxsize bar 30M
maxsize baz 12M
trustlevel sp trusted
numcopies 2
addmulti 6 .x 1M 5M foo
add y.dat 2M foo
`;

const RUN = `${SETUP}step 4
visit foo git-annex whereis
visit foo git-annex maxsize
visit bar git-annex whereis || true
stepstable 100
visit baz git-annex whereis --json || true
visit foo git-annex whereis 1.x 2.x
visit bar git-annex maxsize
`;

const stock = stockSim;
const ours = annexgateSim;

/** A metadata log (committed by the git-annex command before it) printed from the visited repository. */
const catMet = (file: string) =>
  `git annex metadata ${file} >/dev/null; git cat-file -p git-annex:$(git annex examinekey --format='\${hashdirlower}\${key}.log.met' $(git annex lookupkey ${file}))`;

const METADATA = `seed 7
init foo
init bar
initremote sp
connect foo <-> bar
connect foo -> sp
clusternode c1 bar
group bar store
groupwanted store anything
trustlevel sp untrusted
numcopies 2
mincopies 2
required bar include=a.x
wanted bar metadata=tag=keep or metadata=year>2020
add a.x 1M foo
add b.x 2M foo
add c.x 3M foo
add d.x 1M foo
metadata a.x tag=keep
metadata a.x Author=alice
metadata a.x author=bob
metadata b.x year=2019
metadata b.x year=2024
metadata b.x Year=2025
metadata c.x tag=keep
metadata c.x note=!bang
step 1
metadata c.x tag-=keep
metadata d.x tag=keep
metadata d.x tag-=keep
stepstable 50
visit foo git-annex metadata a.x b.x c.x d.x
visit foo ${catMet("a.x")}
visit foo ${catMet("c.x")}
visit bar git-annex whereis
visit bar git-annex find --metadata tag=keep
init baz
visit baz git-annex metadata --json c.x d.x
visit baz ${catMet("d.x")}
visit foo git-annex metadata --json c.x
metadata a.x tag?=other
metadata a.x other?=x
metadata a.x tag+=more
metadata a.x author-=bob
visit bar git-annex metadata a.x
visit bar ${catMet("a.x")}
visit foo for f in difference.log uuid.log trust.log group.log numcopies.log mincopies.log preferred-content.log required-content.log group-preferred-content.log; do git cat-file -p git-annex:$f; done; git remote -v; git annex info --fast | grep -v 'disk space'
visit foo git config --get-regexp filter; od -c .git/info/attributes; for h in pre-commit post-receive post-checkout post-merge; do ls -l .git/hooks/$h | cut -c1-10; cat .git/hooks/$h; done
`;

/** What must agree, with the clocks blanked: the log clocks, and lastchanged dates. */
const blanked = (o: Outcome) => ({
  code: o.code,
  stdout: o.stdout
    .replace(/\b\d{4}-\d\d-\d\d@\d\d-\d\d-\d\d\b/g, "DATE")
    .replace(/\b\d{9,}(\.\d+)?s\b/g, "CLOCK"),
});

describe("annexgate sim visit: stock git-annex in the simulated repository", {
  concurrency: 1,
}, () => {
  let tmp = "";
  let stockDir = "";
  let oursDir = "";
  before(async () => {
    ({ tmp, stockDir, oursDir } = await simScratch("annexgate-simvisit-"));
    await writeFile(join(tmp, "run.sim"), RUN);
    await writeFile(join(tmp, "setup.sim"), SETUP);
  });
  after(() => removeDir(tmp));
  /**
   * Each step run by stock's sim, then by ours: stock's succeeds, and
   * `view` of both agrees. Stock's outcomes by the step's first word.
   */
  const sameSteps = async (
    steps: readonly string[][],
    view: (o: Outcome) => unknown,
  ): Promise<Map<string, Outcome>> => {
    const outcomes = new Map<string, Outcome>();
    for (const args of steps) {
      const s = await stock(stockDir, ...args);
      const o = await ours(oursDir, ...args);
      assert.equal(s.code, 0, `stock sim ${args.join(" ")}: ${s.stderr}`);
      assert.deepEqual(view(o), view(s), `sim ${args.join(" ")}`);
      outcomes.set(args[0] as string, s);
    }
    return outcomes;
  };
  // A failed check leaves stock's sim started: each test starts with none.
  beforeEach(async () => {
    await stock(stockDir, "end");
    await ours(oursDir, "end");
  });

  it("sim run: every visit prints what stock's prints", async () => {
    const file = join(tmp, "run.sim");
    const s = await stock(stockDir, "run", file);
    const o = await ours(oursDir, "run", file);
    assert.equal(s.code, 0, s.stderr);
    // The views differ: foo's whereis lists what bar's does not.
    assert.match(s.stdout, /simulated repository bar \[here\]/);
    assert.match(s.stdout, /"command":"whereis"/);
    assert.match(s.stdout, / 30 MB +\d+% +\S+ -- simulated repository bar/);
    assert.deepEqual(seen(o), seen(s));
  });

  it("a started sim, one command per invocation: the same output, and the visits logged", async () => {
    const steps = [
      ["start", join(tmp, "setup.sim")],
      ["visit", "foo", "git-annex", "whereis"],
      ["step", "3"],
      ["visit", "foo", "git-annex", "whereis"],
      ["visit", "foo", "git-annex", "maxsize"],
      ["disconnect", "sp", "<-", "foo"],
      ["stepstable", "100"],
      ["visit", "baz", "git-annex", "whereis", "||", "true"],
      ["visit", "bar", "git-annex", "maxsize"],
      ["show"],
      ["end"],
    ];
    const shown = (await sameSteps(steps, seen)).get("show");
    assert.match(shown?.stdout ?? "", /^visit foo git-annex maxsize$/m);
  });

  it("a visit whose command fails: its exit status and stock's note", async () => {
    const file = join(tmp, "fails.sim");
    await writeFile(file, `${SETUP}visit foo git-annex whereis nosuchfile\nstep 1\n`);
    const s = await stock(stockDir, "run", file);
    const o = await ours(oursDir, "run", file);
    assert.notEqual(s.code, 0);
    assert.match(s.stdout, /Command git-annex whereis nosuchfile exited nonzero\./);
    assert.deepEqual(seen(o), seen(s));
  });

  it("metadata: what the visited repositories show and log, as stock's", async () => {
    const file = join(tmp, "metadata.sim");
    await writeFile(file, METADATA);
    const s = await stock(stockDir, "run", file);
    const o = await ours(oursDir, "run", file);
    assert.equal(s.code, 0, s.stderr);
    const seenStock = blanked(s).stdout;
    // Stock's clones keep tag=keep after tag-=keep once they have it (MetaData's Eq ignores unset).
    assert.match(seenStock, /"tag":\["keep"\],"tag-lastchanged":\["DATE"\]\},"file":"c\.x"/);
    // The metadata is written whole: author-=bob goes with a.x's other changes; tag?=other does nothing.
    assert.match(seenStock, /^CLOCK author -alice -bob other \+x tag \+keep \+more$/m);
    assert.match(seenStock, /fromList \[Simulation\] timestamp=CLOCK$/m);
    assert.deepEqual(blanked(o), blanked(s));
  });

  it("metadata in a started sim, one command per invocation: each suspend brings the clones up to date", async () => {
    const steps = [
      ["start", join(tmp, "setup.sim")],
      ["metadata", "1.x", "tag=keep"],
      ["metadata", "1.x", "tag-=keep"],
      ["metadata", "2.x", "tag=keep"],
      ["visit", "foo", "git-annex", "metadata", "1.x", "2.x"],
      ["metadata", "2.x", "tag-=keep"],
      ["init", "qux"],
      // (stock's sim would take a --json as its own option)
      ["visit", "qux", "git-annex", "metadata", "1.x", "2.x"],
      // One word, that stock's sim does not take --metadata as its own option.
      ["visit", "bar", "git-annex find --metadata tag=keep"],
      ["show"],
      ["end"],
    ];
    await sameSteps(steps, blanked);
  });

  it("a visit to a repository the sim does not have: stock's error", async () => {
    const file = join(tmp, "unknown.sim");
    await writeFile(file, "seed 1\ninit foo\nvisit nobody git-annex whereis\n");
    const s = await stock(stockDir, "run", file);
    const o = await ours(oursDir, "run", file);
    assert.equal(s.code, 1);
    assert.equal(o.code, 1);
    const message = (r: Outcome) => r.stderr.trim().replace(/^(git-annex|annexgate): /, "");
    assert.equal(message(o), message(s));
  });
});
