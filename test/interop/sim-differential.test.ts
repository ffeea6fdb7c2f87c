/**
 * annexgate's sim engine against stock `git annex sim` on the same sims:
 * same seed, so the same keys, sizes and UUIDs, the same random choices
 * of which action to run, and so the very same log of transfers and drops
 * (`present`/`notpresent` lines, in order), the same notes, and the same
 * settled state. Each sim is small enough for stock to finish in seconds.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatKey } from "../../src/keys/index.js";
import { type Connections, formatSimFile, Sim, type SimCommand } from "../../src/sim/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";

/** The sim-file text of the commands these sims use (sizes in bytes, which git-annex reads as such). */
function connectionText(c: Connections): string {
  switch (c.kind) {
    case "->":
      return `${c.repo} -> ${c.remote}`;
    case "<-":
      return `${c.remote} <- ${c.repo}`;
    case "<->":
      return `${c.repo1} <-> ${c.repo2}`;
    default:
      throw new Error(`not used here: ${c.kind}`);
  }
}

function lineOf(c: SimCommand): string {
  switch (c.kind) {
    case "seed":
      return `seed ${c.seed}`;
    case "init":
    case "initremote":
      return `${c.kind} ${c.repo}`;
    case "connect":
      return `connect ${connectionText(c.connections)}`;
    case "group":
      return `group ${c.repo} ${c.group}`;
    case "wanted":
      return `wanted ${c.repo} ${c.expression}`;
    case "maxsize":
      return `maxsize ${c.repo} ${c.size}`;
    case "numcopies":
      return `numcopies ${c.copies}`;
    case "trustlevel":
      return `trustlevel ${c.repo} ${c.level}`;
    case "add":
      return `add ${c.file} ${c.size} ${c.repos.join(" ")}`;
    case "addmulti":
      return `addmulti ${c.count} ${c.suffix} ${c.minSize} ${c.maxSize} ${c.repos.join(" ")}`;
    case "step":
    case "stepstable":
      return `${c.kind} ${c.steps}`;
    case "visit":
      return `visit ${c.repo} ${c.command.join(" ")}`;
    default:
      throw new Error(`not used here: ${c.kind}`);
  }
}

const M = 1_000_000n;
const G = 1_000_000_000n;
const connect = (connections: Connections): SimCommand => ({ kind: "connect", connections });
const repo = (name: string): SimCommand => ({ kind: "init", repo: name });

/** Stock's sim: start it from a file, show its log, end it. */
async function stockSim(
  dir: string,
  commands: readonly SimCommand[],
): Promise<{ log: string[]; out: string }> {
  const file = join(dir, "test.sim");
  await writeFile(file, `${commands.map(lineOf).join("\n")}\n`);
  const out = await run("git", ["annex", "sim", "start", file], { cwd: dir });
  const shown = await run("git", ["annex", "sim", "show"], { cwd: dir });
  await run("git", ["annex", "sim", "end"], { cwd: dir });
  return { log: shown.split("\n").filter((l) => l !== ""), out };
}

function annexgateSim(commands: readonly SimCommand[]): { sim: Sim; notes: string[] } {
  const notes: string[] = [];
  const sim = new Sim({ note: (m) => notes.push(m) });
  sim.start(commands);
  return { sim, notes };
}

/** The outcome lines of a log: transfers and drops, in order. */
function outcomes(lines: readonly string[]): string[] {
  return lines.filter((l) => /^(present|notpresent) /.test(l));
}

function annexgateOutcomes(sim: Sim): string[] {
  return sim.state.history.flatMap((c) =>
    c.kind === "present" || c.kind === "notpresent" ? [`${c.kind} ${c.repo} ${c.file}`] : [],
  );
}

const SIMS: Record<string, SimCommand[]> = {
  "balanced with maxsize, two copies wanted": [
    { kind: "seed", seed: 7n },
    repo("src"),
    repo("n1"),
    repo("n2"),
    repo("n3"),
    connect({ kind: "->", repo: "src", remote: "n1" }),
    connect({ kind: "->", repo: "src", remote: "n2" }),
    connect({ kind: "->", repo: "src", remote: "n3" }),
    { kind: "group", repo: "n1", group: "store" },
    { kind: "group", repo: "n2", group: "store" },
    { kind: "group", repo: "n3", group: "store" },
    { kind: "wanted", repo: "n1", expression: "balanced=store:2" },
    { kind: "wanted", repo: "n2", expression: "balanced=store:2" },
    { kind: "wanted", repo: "n3", expression: "balanced=store:2" },
    { kind: "maxsize", repo: "n1", size: 60n * M },
    { kind: "numcopies", copies: 2n },
    {
      kind: "addmulti",
      count: 24n,
      suffix: ".bin",
      minSize: 1n * M,
      maxSize: 9n * M,
      repos: ["src"],
    },
    { kind: "stepstable", steps: 200n },
  ],
  "sizebalanced, a client that drops what the archive holds": [
    { kind: "seed", seed: -4592890916829221843n },
    repo("client"),
    repo("a1"),
    repo("a2"),
    connect({ kind: "<->", repo1: "client", repo2: "a1" }),
    connect({ kind: "<->", repo1: "client", repo2: "a2" }),
    { kind: "group", repo: "a1", group: "archive" },
    { kind: "group", repo: "a2", group: "archive" },
    { kind: "wanted", repo: "a1", expression: "sizebalanced=archive" },
    { kind: "wanted", repo: "a2", expression: "sizebalanced=archive" },
    { kind: "wanted", repo: "client", expression: "include=*.keep" },
    { kind: "maxsize", repo: "a1", size: 20n * G },
    { kind: "maxsize", repo: "a2", size: 50n * G },
    {
      kind: "addmulti",
      count: 12n,
      suffix: ".big",
      minSize: 1n * G,
      maxSize: 8n * G,
      repos: ["client"],
    },
    { kind: "add", file: "x.keep", size: 5n * M, repos: ["client"] },
    { kind: "stepstable", steps: 100n },
  ],
  "a chain, numcopies 2, trusted": [
    { kind: "seed", seed: 123456789n },
    repo("a"),
    repo("b"),
    repo("c"),
    connect({ kind: "<->", repo1: "a", repo2: "b" }),
    connect({ kind: "<->", repo1: "b", repo2: "c" }),
    { kind: "wanted", repo: "b", expression: "largerthan=3mb" },
    { kind: "wanted", repo: "c", expression: "anything" },
    { kind: "trustlevel", repo: "c", level: "trusted" },
    { kind: "numcopies", copies: 2n },
    { kind: "addmulti", count: 15n, suffix: ".d", minSize: 1n * M, maxSize: 6n * M, repos: ["a"] },
    { kind: "stepstable", steps: 100n },
  ],
};

describe("sim: annexgate and stock git annex sim agree", { concurrency: 1 }, () => {
  let dir = "";
  before(async () => {
    dir = await gitAnnexRepo(await makeTempDir("annexgate-sim-"), "simulator");
  });
  after(() => removeDir(dir));

  it("makes the same UUIDs, keys and sizes from a seed (init, addmulti)", async () => {
    const commands: SimCommand[] = [
      { kind: "seed", seed: 1n },
      repo("foo"),
      { kind: "visit", repo: "foo", command: ["echo", "uuid", "$(git", "config", "annex.uuid)"] },
      {
        kind: "addmulti",
        count: 20n,
        suffix: ".x",
        minSize: 1n * M,
        maxSize: 100n * M,
        repos: ["foo"],
      },
      {
        kind: "visit",
        repo: "foo",
        command: ["git", "annex", "find", "--include=*", `--format='$${"{file}"} $${"{key}"}\\n'`],
      },
    ];
    const { out } = await stockSim(dir, commands);
    const stock = out
      .split("\n")
      .filter((l) => /^\d+\.x /.test(l))
      .sort();
    const { sim } = annexgateSim(commands.filter((c) => c.kind !== "visit"));
    const ours = sim.state
      .sortedFiles()
      .map((f) => `${f.name} ${formatKey(sim.state.keys[f.key] ?? { backend: "", name: "" })}`)
      .sort();
    assert.equal(stock.length, 20);
    assert.deepEqual(ours, stock);
    assert.equal(out.match(/^uuid (\S+)$/m)?.[1], sim.state.repos[0]?.uuid);
  });

  for (const [name, commands] of Object.entries(SIMS)) {
    it(`${name}: the same transfers and drops, in the same order`, async () => {
      const stock = await stockSim(dir, commands);
      const ours = annexgateSim(commands);
      const expected = outcomes(stock.log);
      assert.ok(expected.length > 10, `stock moved only ${expected.length} times`);
      assert.deepEqual(annexgateOutcomes(ours.sim), expected);
      const settled = /Simulation has stabilized after \d+ steps\./;
      const stockNote = stock.out.match(settled)?.[0];
      assert.ok(stockNote !== undefined, stock.out);
      assert.equal(
        ours.notes.find((n) => settled.test(n)),
        stockNote,
      );
      console.log(`${name}: ${expected.length} moves; ${stockNote}`);
      assert.equal(ours.sim.state.failed, false);
    });
  }

  it("stock replays annexgate's log (sim show) with every present/notpresent holding", async () => {
    const [name, commands] = Object.entries(SIMS)[0] as [string, SimCommand[]];
    const { sim } = annexgateSim(commands);
    const file = join(dir, "replay.sim");
    await writeFile(file, formatSimFile(sim.state.history));
    // sim run fails ("Simulation shown above had errors.") when any expectation does not hold.
    const out = await run("git", ["annex", "sim", "run", file], { cwd: dir });
    assert.match(out, /Simulation has stabilized/, name);
  });
});
