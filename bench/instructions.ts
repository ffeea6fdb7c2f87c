/**
 * annexgate against an earlier annexgate, counted in instructions instead
 * of seconds: the same work (checkpresent requests, a stock client's puts
 * and gets of a big file and of small files, to a plain repository and
 * through a 3-node cluster; bench/instructions-work.ts) sent to a build of
 * BASE and to this tree, each server run under `valgrind --tool=callgrind`
 * with every process it starts (git) counted too. Instruction counts do
 * not move with what else the machine is doing, so a change of a few per
 * cent can be told from noise on a busy machine, where seconds vary by 2×.
 *
 * The counts are the server's process tree's only: the load and the stock
 * clients run natively. The server's clock runs slower by about valgrind's
 * own factor (bench/slow-clock.ts), so work it does once a second weighs
 * as it does natively.
 *
 * Usage: node dist/bench/instructions.js BASE
 * Env: BENCH_IR_REQUESTS (checkpresent requests per level, 2000),
 * BENCH_IR_SIZE (big file, 32M), BENCH_IR_FILES (small files, 40),
 * BENCH_CLOCK_SLOWDOWN (50), BENCH_IR_SETS (plain,cluster; checkpresent is
 * plain's checkpresent rows alone), BENCH_IR_ROUNDS (counted rounds of
 * each phase, 2; the lowest is kept, and the median printed beside it:
 * a small-file phase swings by half between rounds, as the branch commits
 * fall in one round or another), BENCH_IR_HEAD_ARGS
 * (more arguments for this tree's server only, e.g. "--log-level warn" to
 * leave out the request lines BASE did not write), BENCH_IR_BY_COMMAND=1
 * (each count split by the command of each process: node, git's
 * subcommands, perl).
 */
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir, removeDir } from "../test/helpers/index.js";
import { buildBase } from "./base-tree.js";
import { benchMain, envInt, parseSize, printTable } from "./common.js";
import {
  checkpresentWork,
  clusterWork,
  type Figures,
  plainWork,
  type WorkOptions,
} from "./instructions-work.js";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SETS = { plain: plainWork, cluster: clusterWork, checkpresent: checkpresentWork } as const;

benchMain("instructions", async (cleanup) => {
  const base = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (base === undefined) throw new Error("usage: instructions.js BASE");
  const opts: WorkOptions = {
    requests: envInt("BENCH_IR_REQUESTS", 2000),
    bigSize: parseSize(process.env.BENCH_IR_SIZE ?? "32M"),
    files: envInt("BENCH_IR_FILES", 40),
    clockSlowdown: envInt("BENCH_CLOCK_SLOWDOWN", 50),
    rounds: Math.max(1, envInt("BENCH_IR_ROUNDS", 2)),
    serverArgs: [],
  };
  const headArgs = (process.env.BENCH_IR_HEAD_ARGS ?? "").split(" ").filter((a) => a !== "");
  const sets = (process.env.BENCH_IR_SETS ?? "plain,cluster")
    .split(",")
    .filter((s): s is keyof typeof SETS => s in SETS);
  const top = await makeTempDir("annexgate-bench-instructions-");
  cleanup.add(() => removeDir(top));
  const built = await buildBase(base);
  cleanup.add(built.done);
  const trees = [built.tree, here];
  const figures = new Map<string, (number | undefined)[]>();
  for (const set of sets) {
    // The two trees one after the other on each set, so a set's figures
    // come from the same minutes of the same machine.
    for (const [i, tree] of trees.entries()) {
      const dir = join(top, `${set}-${i}`);
      await mkdir(dir);
      console.log(`${set}: ${i === 0 ? base : "this tree"}`);
      const got: Figures = await SETS[set](tree, dir, {
        ...opts,
        serverArgs: i === 1 ? headArgs : [],
      });
      for (const [label, value] of got) {
        const pair = figures.get(label) ?? [undefined, undefined];
        pair[i] = value;
        figures.set(label, pair);
        console.log(`  ${label}: ${value.toFixed(2)}`);
      }
      await removeDir(dir);
    }
  }
  console.log(
    `\n== instructions executed by the server's process tree (callgrind), ${base} against this tree; ` +
      `checkpresent ${opts.requests} requests per level, big file ${opts.bigSize / 1048576} MiB, ` +
      `${opts.files} small files, clock slowed ${opts.clockSlowdown}x` +
      (headArgs.length > 0 ? `, this tree with ${headArgs.join(" ")}` : "") +
      " ==",
  );
  const rows = [...figures].map(([label, [b, h]]) => {
    const change = b !== undefined && h !== undefined ? ((h - b) / b) * 100 : Number.NaN;
    const verdict = Math.abs(change) <= 5 ? "same" : change < 0 ? "better" : "WORSE";
    return [label, fmt(b), fmt(h), `${change.toFixed(1)} %`, verdict];
  });
  printTable(["work (fewer is better)", base.slice(0, 12), "this tree", "change", "verdict"], rows);
});

function fmt(n: number | undefined): string {
  return n === undefined ? "-" : n.toFixed(2);
}
