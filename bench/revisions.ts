/**
 * annexgate against an earlier annexgate: the same bench scripts run from
 * a build of BASE and from this tree, one after the other in one run, and
 * every annexgate figure of their tables put side by side with the change
 * in per cent. Stock git-annex runs in both too (its column shows how much
 * the machine itself moved between the two runs).
 *
 * Usage: node dist/bench/revisions.js BASE [BENCH…]
 *   BASE   a git revision of this repository (e.g. a commit before a change)
 *   BENCH  names of bench scripts (default: throughput checkpresent cluster)
 * Env: as the bench scripts take (BENCH_QUICK=1 for short runs, …);
 * BENCH_ROUNDS_EACH (default 1): each side runs this many times, alternating,
 * and the median of each figure is kept.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBase } from "./base-tree.js";
import { benchMain, envInt, median, printTable } from "./common.js";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The numeric annexgate cells of a bench's tables, by "row label / column". */
export function annexgateFigures(output: string): Map<string, number> {
  const figures = new Map<string, number>();
  let columns: number[] | null = null;
  let header: string[] = [];
  for (const line of output.split("\n")) {
    const cells = line.trim().split(/\s{2,}/);
    if (/^-+(\s+-+)*$/.test(line.trim())) continue;
    if (cells.some((c) => /^(annexgate|ag)\b/.test(c) && !c.includes("/stock"))) {
      header = cells;
      columns = cells.flatMap((c, i) =>
        /^(annexgate|ag)\b/.test(c) && !c.includes("/stock") ? [i] : [],
      );
      continue;
    }
    if (columns === null || cells.length !== header.length) continue;
    for (const i of columns) {
      const value = Number.parseFloat(cells[i] ?? "");
      if (Number.isFinite(value)) figures.set(`${cells[0]} / ${header[i]}`, value);
    }
  }
  return figures;
}

/** Whether a smaller figure is the better one (times, latencies, memory). */
export function lowerIsBetter(label: string): boolean {
  return /\bms\b|us\/req|\(s\)|seconds|RSS|memory|MiB\)$|peak/i.test(label);
}

async function runBench(tree: string, name: string): Promise<string> {
  const script = join(tree, "dist", "bench", `${name}.js`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: tree,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      process.stdout.write(d);
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${name} in ${tree} exited ${code}`)),
    );
  });
}

benchMain("revisions", async (cleanup) => {
  const [base, ...names] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  if (base === undefined) throw new Error("usage: revisions.js BASE [BENCH…]");
  const benches = names.length > 0 ? names : ["throughput", "checkpresent", "cluster"];
  const rounds = envInt("BENCH_ROUNDS_EACH", 1);
  const built = await buildBase(base);
  cleanup.add(built.done);
  for (const name of benches) {
    const seen = { base: [] as Map<string, number>[], head: [] as Map<string, number>[] };
    for (let i = 0; i < rounds; i++) {
      console.log(`\n## ${name}: ${base} (round ${i + 1})`);
      seen.base.push(annexgateFigures(await runBench(built.tree, name)));
      console.log(`\n## ${name}: this tree (round ${i + 1})`);
      seen.head.push(annexgateFigures(await runBench(here, name)));
    }
    const labels = [...(seen.head[0]?.keys() ?? [])];
    const rows = labels.map((label) => {
      const b = median(seen.base.map((m) => m.get(label) ?? Number.NaN));
      const h = median(seen.head.map((m) => m.get(label) ?? Number.NaN));
      const change = ((h - b) / b) * 100;
      const better = lowerIsBetter(label) ? change <= 0 : change >= 0;
      const verdict = Math.abs(change) <= 5 ? "same" : better ? "better" : "WORSE";
      return [label, b.toFixed(2), h.toFixed(2), `${change.toFixed(1)} %`, verdict];
    });
    console.log(`\n## ${name}: annexgate ${base} against this tree`);
    printTable(["figure", base.slice(0, 12), "this tree", "change", "verdict"], rows);
  }
});
