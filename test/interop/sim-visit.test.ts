/**
 * `visit` against stock `git annex sim`: the simulated repository's view
 * made a real repository, and stock git-annex commands run in it, print
 * what they print in stock's own sim — `whereis` (text and JSON) and
 * `maxsize` — through split brain (repositories that see different
 * location logs), numcopies, trust, groups and a maxsize; in one `sim
 * run` and across separate invocations against a started sim; and a
 * visit whose command fails ends the same way.
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
    for (const args of steps) {
      const s = await stock(stockDir, ...args);
      const o = await ours(oursDir, ...args);
      assert.equal(s.code, 0, `stock sim ${args.join(" ")}: ${s.stderr}`);
      assert.deepEqual(seen(o), seen(s), `sim ${args.join(" ")}`);
      if (args[0] === "show") assert.match(s.stdout, /^visit foo git-annex maxsize$/m);
    }
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
