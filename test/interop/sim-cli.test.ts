/**
 * The `annexgate sim` command against stock `git annex sim`, each in its
 * own scratch repository, on one small sim (three repositories, two of
 * them balanced archives with a maxsize, a seed): the same output lines,
 * the same `sim show` log, the started sim carried across separate
 * invocations, and errors that exit non-zero with stock's message.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Outcome, removeDir } from "../helpers/index.js";
import { annexgateSim, simScratch, stockSim } from "../helpers/sim.js";

/** Everything up to the stepstable, so a later invocation can run it. */
const SETUP = `seed 3
init foo
init bar
init baz
connect foo <-> bar <-> baz
group bar archive
group baz archive
groupwanted archive balanced=archive:1
wanted bar groupwanted
wanted baz groupwanted
maxsize bar 100kB
maxsize baz 100kB
addmulti 6 .x 1kB 20kB foo
`;
const SIM = `${SETUP}stepstable 30\n`;

type Result = Outcome;

const stock = stockSim;
const ours = annexgateSim;

/** The message of an error, without the program's own prefix ("git-annex: ", "annexgate: "). */
function message(r: Result): string {
  return r.stderr.trim().replace(/^(git-annex|annexgate): /, "");
}

describe("annexgate sim: the command, against stock git annex sim", { concurrency: 1 }, () => {
  let tmp = "";
  let stockDir = "";
  let oursDir = "";
  let simFile = "";
  let setupFile = "";
  before(async () => {
    ({ tmp, stockDir, oursDir } = await simScratch("annexgate-simcli-"));
    simFile = join(tmp, "balanced.sim");
    setupFile = join(tmp, "setup.sim");
    await writeFile(simFile, SIM);
    await writeFile(setupFile, SETUP);
  });
  after(() => removeDir(tmp));

  it("sim run FILE prints the same lines and exits 0", async () => {
    const [s, o] = [await stock(stockDir, "run", simFile), await ours(oursDir, "run", simFile)];
    assert.equal(s.code, 0, s.stderr);
    assert.equal(o.code, 0, o.stderr);
    assert.match(s.stdout, /^ {2}Simulation has stabilized after \d+ steps\.$/m);
    assert.equal(o.stdout, s.stdout);
    // run leaves no sim started behind
    assert.notEqual((await ours(oursDir, "show")).code, 0);
  });

  it("start, one command per invocation, show, end: the same log as stock's", async () => {
    const logs: string[] = [];
    for (const [sim, dir] of [
      [stock, stockDir],
      [ours, oursDir],
    ] as const) {
      const started = await sim(dir, "start", setupFile);
      assert.equal(started.code, 0, started.stderr);
      assert.match(started.stdout, /Sim started\./);
      const step = await sim(dir, "stepstable", "30");
      assert.equal(step.code, 0, step.stderr);
      assert.match(step.stdout, /Simulation has stabilized after \d+ steps\./);
      const shown = await sim(dir, "show");
      assert.equal(shown.code, 0, shown.stderr);
      logs.push(shown.stdout);
      const ended = await sim(dir, "end");
      assert.deepEqual([ended.code, ended.stdout.trim()], [0, "Sim ended."]);
    }
    const [stockLog, ourLog] = logs;
    assert.match(stockLog ?? "", /^present bar \S+$/m, "the log records the transfers");
    assert.equal(ourLog, stockLog);
  });

  it("stock git annex sim run accepts annexgate's sim show log", async () => {
    assert.equal((await ours(oursDir, "start", simFile)).code, 0);
    const log = join(tmp, "ours.sim");
    await writeFile(log, (await ours(oursDir, "show")).stdout);
    assert.equal((await ours(oursDir, "end")).code, 0);
    // stock fails ("Simulation shown above had errors.") if a present line does not hold
    const replay = await stock(stockDir, "run", log);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  });

  it("sim report: stock's log holds the moves it counts, for a file and for the started sim", async () => {
    // Stock's log of the same sim: one present/notpresent line per action of the steps.
    assert.equal((await stock(stockDir, "start", simFile)).code, 0);
    const stockLog = (await stock(stockDir, "show")).stdout.split("\n");
    assert.equal((await stock(stockDir, "end")).code, 0);
    const steps = stockLog.slice(stockLog.findIndex((l) => l.startsWith("stepstable ")));
    const transfers = steps.filter((l) => l.startsWith("present ")).length;
    const drops = steps.filter((l) => l.startsWith("notpresent ")).length;
    assert.ok(transfers > 0);
    // Each transfer went to a repository of the log's lines; sum them per repository.
    const perRepo = new Map<string, number>();
    for (const l of steps.filter((l) => l.startsWith("present "))) {
      const repo = l.split(" ")[1] as string;
      perRepo.set(repo, (perRepo.get(repo) ?? 0) + 1);
    }
    const fromFile = await ours(oursDir, "report", simFile);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const out = fromFile.stdout;
    assert.match(out, /^stable: it stabilized after \d+ steps/);
    assert.match(out, new RegExp(`^${transfers + drops} actions: ${transfers} transfers \\(`, "m"));
    assert.match(out, new RegExp(` ${drops} drops \\(`));
    for (const [repo, n] of perRepo) {
      // foo added every key; the others hold what came to them.
      if (repo !== "foo") assert.match(out, new RegExp(`^${repo} +${n} `, "m"), out);
    }
    // The started sim, replayed from its log, reports the same.
    assert.equal((await ours(oursDir, "start", simFile)).code, 0);
    const started = await ours(oursDir, "report");
    assert.equal((await ours(oursDir, "end")).code, 0);
    assert.deepEqual([started.code, started.stdout], [0, out]);
  });

  it("a failed present check: the same notes, log and error as stock's", async () => {
    const failing = join(tmp, "failing.sim");
    await writeFile(failing, "seed 1\ninit foo\npresent foo nofile\n");
    for (const args of [
      ["run", failing],
      ["start", failing],
    ]) {
      const [s, o] = [await stock(stockDir, ...args), await ours(oursDir, ...args)];
      assert.equal(s.code, 1);
      assert.deepEqual([o.code, o.stdout, message(o)], [1, s.stdout, message(s)]);
    }
    // the failure is kept: later commands succeed, and do not report it again
    const [s, o] = [await stock(stockDir, "step", "1"), await ours(oursDir, "step", "1")];
    assert.deepEqual([o.code, o.stdout], [s.code, s.stdout]);
    await stock(stockDir, "end");
    await ours(oursDir, "end");
  });

  it("refuses, non-zero and with a clear message, what stock refuses", async () => {
    for (const args of [["show"], ["step", "1"]]) {
      const r = await ours(oursDir, ...args);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^annexgate: No sim has been started\./);
    }
    const badFile = join(tmp, "bad.sim");
    await writeFile(badFile, "init foo\nbogus x\n");
    for (const args of [
      ["run", badFile],
      ["bogus", "words"],
      ["start", join(tmp, "none.sim")],
    ]) {
      const [s, o] = [await stock(stockDir, ...args), await ours(oursDir, ...args)];
      assert.equal(s.code, 1);
      assert.equal(o.code, 1, `annexgate sim ${args.join(" ")}`);
      if (args[0] !== "start") assert.equal(message(o), message(s));
      else assert.match(message(o), /none\.sim/);
      await stock(stockDir, "end");
    }
    assert.equal((await ours(oursDir, "start")).code, 0);
    const again = await ours(oursDir, "start");
    assert.equal(again.code, 1);
    assert.match(message(again), /^A sim was previously started\./);
    // use: a repository known here, by name; an unknown one refused with stock's words
    assert.equal((await stock(stockDir, "start")).code, 0);
    const [s, o] = [
      await stock(stockDir, "use", "x", "nosuch"),
      await ours(oursDir, "use", "x", "nosuch"),
    ];
    assert.deepEqual([o.code, message(o)], [1, message(s)]);
    assert.equal((await stock(stockDir, "end")).code, 0);
    const used = await ours(oursDir, "use", "me", "here");
    assert.equal(used.code, 0, used.stderr);
    assert.match((await ours(oursDir, "show")).stdout, /^use me here$/m);
    assert.equal((await ours(oursDir, "init", "foo")).code, 0);
    // A visit runs its command in the simulated repository (sim-visit.test.ts compares it with stock).
    const visit = await ours(oursDir, "visit", "foo", "git", "config", "annex.uuid");
    assert.equal(visit.code, 0, visit.stderr);
    assert.match(visit.stdout, /^[0-9a-f-]{36}$/m);
    const failing = await ours(oursDir, "visit", "foo", "false");
    assert.equal(failing.code, 1);
    assert.match(failing.stdout, /Command false exited nonzero\./);
    assert.equal((await ours(oursDir, "end")).code, 0);
  });
});
