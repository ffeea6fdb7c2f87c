/**
 * Shared pieces of the side-by-side benchmarks (annexgate against stock
 * `git annex p2phttp`): settings from the environment, starting either
 * server, timed commands, sampling a process tree's RSS, cleanup that runs
 * even when a benchmark fails or is interrupted, and plain-text tables.
 *
 * These are scripts, not tests: run them from dist/bench/ after `tsc -p .`.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, writeRandomFile } from "../test/helpers/index.js";

export { writeRandomFile };

import { type RunningP2pHttp, startAnnexgate, startStockP2pHttp } from "../test/helpers/servers.js";

export type ServerKind = "annexgate" | "stock";

/** The servers to compare, in order; BENCH_SERVERS=annexgate,stock picks a subset. */
export function serverKinds(): ServerKind[] {
  const text = process.env.BENCH_SERVERS ?? "annexgate,stock";
  const kinds = text
    .split(",")
    .map((s) => s.trim())
    .filter((s): s is ServerKind => s === "annexgate" || s === "stock");
  if (kinds.length === 0) throw new Error(`BENCH_SERVERS names no server: ${text}`);
  return kinds;
}

/** BENCH_QUICK=1 (or a --quick argument): small sizes and short runs. */
export function isQuick(): boolean {
  return process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
}

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** "1G", "256MiB", "4k", "4096" to bytes (binary units). */
export function parseSize(text: string): number {
  const m = /^\s*([0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = UNITS[(m?.[2] ?? "?").toLowerCase()];
  if (!m || unit === undefined) throw new Error(`bad size: ${text}`);
  return Number(m[1]) * unit;
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** A positive integer from the environment, or the default. */
export function envInt(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  if (!/^[0-9]+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a positive integer`);
  return Number(v);
}

/** First positional argument (not a --flag), if any. */
export function firstArg(): string | undefined {
  return process.argv.slice(2).find((a) => !a.startsWith("--"));
}

/** Identity for the commits the benchmark repositories need. */
export function setGitIdentity(): void {
  process.env.GIT_AUTHOR_NAME ??= "annexgate bench";
  process.env.GIT_AUTHOR_EMAIL ??= "bench@annexgate.invalid";
  process.env.GIT_COMMITTER_NAME ??= "annexgate bench";
  process.env.GIT_COMMITTER_EMAIL ??= "bench@annexgate.invalid";
}

/** Cleanup steps, run last-added first, each at most once, failures ignored. */
export class Cleanup {
  #steps: Array<() => Promise<unknown>> = [];

  add(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  async runAll(): Promise<void> {
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      await step().catch((e: unknown) => {
        process.stderr.write(`bench cleanup: ${String(e)}\n`);
      });
    }
  }
}

/**
 * Runs a benchmark's main with a Cleanup that is emptied on success, on
 * failure and on SIGINT/SIGTERM; sets the exit code.
 */
export function benchMain(name: string, main: (cleanup: Cleanup) => Promise<void>): void {
  setGitIdentity();
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`${name}: ${sig}, cleaning up\n`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  main(cleanup)
    .catch((e: unknown) => {
      process.stderr.write(`${name} failed: ${String((e as Error)?.stack ?? e)}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await cleanup.runAll();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    });
}

/** Runs a program with a time limit; resolves with stdout, rejects with stderr. */
export function runTimed(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; timeoutMs: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err !== null) {
          const why = err.killed
            ? `killed after ${opts.timeoutMs / 1000} s (hung?)`
            : `failed: ${err.message}`;
          reject(new Error(`${cmd} ${args.join(" ")} ${why}\n${stderr}`));
        } else {
          resolve(stdout);
        }
      },
    );
    child.stdin?.end();
  });
}

/** Seconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A fresh non-bare server repository with one commit (so it can be cloned). */
export async function makeServerRepo(dir: string): Promise<string> {
  await run("git", ["init", "-q", dir]);
  await run("git", ["annex", "init", "-q", "server"], { cwd: dir });
  await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: dir });
  return dir;
}

export async function repoUuid(dir: string): Promise<string> {
  return (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
}

/**
 * Start one server on `repo`, wide open, with `jobs` concurrent transfers.
 * Both get the same --jobs (annexgate's own default is the CPU count).
 */
/** Starts a server of `kind`; `annexgateArgs` are options only annexgate has. */
export function startServer(
  kind: ServerKind,
  repo: string,
  jobs: number,
  annexgateArgs: readonly string[] = [],
): Promise<RunningP2pHttp> {
  const args = ["--wideopen", "--jobs", String(jobs)];
  if (kind === "annexgate") return startAnnexgate(repo, [...args, ...annexgateArgs]);
  return startStockP2pHttp(repo, args);
}

/** Starts a server and registers its stop with `cleanup`. */
export async function startCleanly(
  cleanup: Cleanup,
  kind: ServerKind,
  repo: string,
  jobs: number,
  annexgateArgs: readonly string[] = [],
): Promise<RunningP2pHttp> {
  const s = await startServer(kind, repo, jobs, annexgateArgs);
  cleanup.add(() => s.stop());
  return s;
}

async function childrenOf(pid: number): Promise<number[]> {
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const t of tasks) {
    try {
      const text = await readFile(`/proc/${pid}/task/${t}/children`, "utf8");
      for (const c of text.split(" ")) if (c.trim() !== "") out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** `pid` and all its live descendants. */
export async function treePids(pid: number): Promise<number[]> {
  const seen = new Set<number>();
  const queue = [pid];
  // Bounded: a process tree on this machine is far smaller than this.
  for (let i = 0; i < 10_000 && queue.length > 0; i++) {
    const p = queue.shift() as number;
    if (seen.has(p)) continue;
    seen.add(p);
    queue.push(...(await childrenOf(p)));
  }
  return [...seen];
}

/**
 * CPU time (user + system, ms) used so far by `pid` and its live
 * descendants, with what their ended children used (cutime, cstime).
 * A steadier measure than requests per second on a shared machine: it
 * does not count the time the server waited for a core.
 */
export async function treeCpuMs(pid: number): Promise<number> {
  // Clock ticks per second: 100 on Linux on every architecture Node runs on.
  const TICKS = 100;
  let ticks = 0;
  for (const p of await treePids(pid)) {
    try {
      const stat = await readFile(`/proc/${p}/stat`, "utf8");
      // Fields after the command name (in parentheses, which may hold spaces).
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime, stime, cutime, cstime: fields 14 to 17 of the whole line.
      for (const i of [11, 12, 13, 14]) ticks += Number(f[i] ?? 0);
    } catch {
      // ended meanwhile
    }
  }
  return (ticks * 1000) / TICKS;
}

/** VmRSS of one process in KiB (0 when it is gone). */
export async function rssKiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+([0-9]+) kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * RSS of `pid` alone, of the largest single process, and summed over `pid`
 * and all its descendants (KiB).
 */
export async function treeRssKiB(
  pid: number,
): Promise<{ main: number; largest: number; tree: number }> {
  const seen = new Set<number>();
  const queue = [pid];
  let tree = 0;
  let main = 0;
  let largest = 0;
  // Bounded: a process tree on this machine is far smaller than this.
  for (let i = 0; i < 10_000 && queue.length > 0; i++) {
    const p = queue.shift() as number;
    if (seen.has(p)) continue;
    seen.add(p);
    const r = await rssKiB(p);
    if (p === pid) main = r;
    largest = Math.max(largest, r);
    tree += r;
    queue.push(...(await childrenOf(p)));
  }
  return { main, largest, tree };
}

/** Peak RSS (KiB) seen by a sampler: the first process, the largest one, the whole tree. */
export interface RssPeak {
  main: number;
  largest: number;
  tree: number;
  samples: number;
}

const noPeak = (): RssPeak => ({ main: 0, largest: 0, tree: 0, samples: 0 });

/**
 * Samples a process tree's RSS every `intervalMs` until stopped or until
 * `maxMs` has passed. `mark()` starts a new phase and returns the peak of the
 * phase it ends (it always takes one sample of its own first).
 */
export class RssSampler {
  #timer: NodeJS.Timeout | null = null;
  #phase = noPeak();
  #all = noPeak();
  #inflight: Promise<void> | null = null;
  readonly #started = Date.now();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
    private readonly maxMs = 3_600_000,
  ) {}

  async start(): Promise<void> {
    await this.sample();
    this.#timer = setInterval(() => {
      if (Date.now() - this.#started > this.maxMs) {
        this.stopTimer();
        return;
      }
      if (this.#inflight === null) void this.sample();
    }, this.intervalMs);
  }

  /** One sample, after any sample already under way. */
  private async sample(): Promise<void> {
    while (this.#inflight !== null) await this.#inflight;
    this.#inflight = (async () => {
      const r = await treeRssKiB(this.pid);
      for (const p of [this.#phase, this.#all]) {
        p.main = Math.max(p.main, r.main);
        p.largest = Math.max(p.largest, r.largest);
        p.tree = Math.max(p.tree, r.tree);
        p.samples++;
      }
    })();
    try {
      await this.#inflight;
    } finally {
      this.#inflight = null;
    }
  }

  async mark(): Promise<RssPeak> {
    await this.sample();
    const done = this.#phase;
    this.#phase = noPeak();
    return done;
  }

  private stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Stops sampling; the peak over the whole run. */
  async stop(): Promise<RssPeak> {
    this.stopTimer();
    await this.sample();
    return this.#all;
  }
}

/** a / b, as "1.23x", or "-" when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a / b)) return "-";
  return `${(a / b).toFixed(2)}x`;
}

export function fixed(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(digits);
}

/** Prints rows as a left-aligned table with a rule under the header. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

export const MiB = 1024 * 1024;

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** An error's first line and the last line its command printed on stderr. */
export function brief(e: unknown): string {
  const lines = String((e as Error)?.message ?? e)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const last = lines.length > 1 ? ` ... ${lines[lines.length - 1]}` : "";
  return `${lines[0] ?? ""}${last}`.slice(0, 400);
}

/** Size of each of the many small files the benchmarks move. */
export const SMALL_SIZE = 4096;
/** Any one git-annex command may take this long (BENCH_TIMEOUT seconds) before it is killed. */
export const COMMAND_TIMEOUT_MS = envInt("BENCH_TIMEOUT", 600) * 1000;

/** `git annex ARGS` in `client`, bounded by COMMAND_TIMEOUT_MS. */
export function annexIn(client: string): (...args: string[]) => Promise<string> {
  return (...args) =>
    runTimed("git", ["annex", ...args], { cwd: client, timeoutMs: COMMAND_TIMEOUT_MS });
}

/**
 * Set-up, not timed: the client gets `big.bin` (a copy of `bigFile`) and
 * `small/` with `nSmall` random files of SMALL_SIZE, annexed and committed.
 */
export async function fillClient(client: string, bigFile: string, nSmall: number): Promise<void> {
  await run("cp", [bigFile, join(client, "big.bin")]);
  const small = join(client, "small");
  await mkdir(small);
  for (let i = 0; i < nSmall; i++) {
    await writeFile(join(small, `f${String(i).padStart(5, "0")}.dat`), randomBytes(SMALL_SIZE));
  }
  await annexIn(client)("add", "-q", "big.bin", "small");
  await run("git", ["commit", "-q", "-m", "content"], { cwd: client });
}
