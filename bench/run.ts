/**
 * Runs every side-by-side benchmark in turn (throughput, checkpresent,
 * observability, memory, shell, cluster, client, repo-sizes, …, special, soak), each in its own process with the same environment and
 * arguments (so BENCH_QUICK=1 or --quick applies to all), and prints
 * everything they print. One failing does not stop the others; the exit
 * code says whether any failed.
 *
 * Usage: npm run bench [-- --quick]   or   node dist/bench/run.js [--quick]
 * Env: BENCH_ONLY=throughput,memory picks some; BENCH_RUN_TIMEOUT (seconds
 * per benchmark, 3600).
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { envInt } from "./common.js";

const ALL = [
  "throughput",
  "checkpresent",
  "observability",
  "memory",
  "shell",
  "cluster",
  "client",
  "repo-sizes",
  "preferred-content",
  "glob",
  "content-lock",
  "journal",
  "special",
  "sim",
  "soak",
] as const;

function runOne(name: string, timeoutMs: number): Promise<number> {
  const script = join(dirname(fileURLToPath(import.meta.url)), `${name}.js`);
  const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...flags], { stdio: "inherit" });
    // SIGTERM lets the benchmark stop its servers and remove its files.
    const timer = setTimeout(() => {
      process.stderr.write(`bench: ${name} took over ${timeoutMs / 1000} s, stopping it\n`);
      child.kill("SIGTERM");
    }, timeoutMs);
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const names = ALL.filter((n) => only === undefined || only.includes(n));
const timeoutMs = envInt("BENCH_RUN_TIMEOUT", 3600) * 1000;
let failed = 0;
for (const name of names) {
  const t0 = Date.now();
  const code = await runOne(name, timeoutMs);
  console.log(
    `(${name}: ${code === 0 ? "done" : `FAILED, exit ${code}`} in ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  if (code !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
