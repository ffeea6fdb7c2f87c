/**
 * The sim engine alone, in memory, on a large sim: one source repository
 * connected to R-1 store repositories in one group, each wanting
 * `balanced=store:2` with a maxsize, and F files added to the source,
 * stepped until stable. Prints the time and memory of each phase.
 *
 * Usage: node dist/bench/sim-engine.js   (env SIM_REPOS, default 20;
 * SIM_FILES, default 100000; SIM_SEED, default 1)
 */
import { performance } from "node:perf_hooks";
import { Sim, type SimCommand } from "../src/sim/index.js";
import { envInt } from "./common.js";

const repos = envInt("SIM_REPOS", 20);
const files = envInt("SIM_FILES", 100_000);
const seed = BigInt(envInt("SIM_SEED", 1));

function setup(): SimCommand[] {
  const c: SimCommand[] = [
    { kind: "seed", seed },
    { kind: "init", repo: "src" },
  ];
  for (let i = 1; i < repos; i++) {
    const repo = `n${i}`;
    c.push({ kind: "init", repo });
    c.push({ kind: "connect", connections: { kind: "->", repo: "src", remote: repo } });
    c.push({ kind: "group", repo, group: "store" });
    c.push({ kind: "wanted", repo, expression: "balanced=store:2" });
    // Room for about three times a fair share of two copies of every file.
    const share = BigInt(Math.ceil((files * 2 * 5_500_000 * 3) / (repos - 1)));
    c.push({ kind: "maxsize", repo, size: share });
  }
  return c;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(0)} MB`;
}

function phase(name: string, f: () => void): void {
  const t0 = performance.now();
  f();
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const m = process.memoryUsage();
  console.log(`${name}: ${s} s (heap ${mb(m.heapUsed)}, rss ${mb(m.rss)})`);
}

const notes: string[] = [];
const sim = new Sim({ seed, note: (m) => notes.push(m) });
console.log(`sim-engine: ${repos} repositories, ${files} files`);
phase("configure", () => sim.start(setup()));
phase("addmulti", () =>
  sim.apply({
    kind: "addmulti",
    count: BigInt(files),
    suffix: ".bin",
    minSize: 1_000_000n,
    maxSize: 10_000_000n,
    repos: ["src"],
  }),
);
phase("stepstable", () => sim.apply({ kind: "stepstable", steps: BigInt(files * 4) }));
const moves = sim.state.history.filter((c) => c.kind === "present" || c.kind === "notpresent");
console.log(`${notes.at(-1) ?? "no note"} (${moves.length} transfers and drops)`);
