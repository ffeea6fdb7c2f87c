/**
 * What logging and metrics cost: annexgate p2phttp run five ways on the
 * same repository (no request lines and no metrics; the default text
 * request lines; JSON request lines; JSON lines and metrics, not scraped
 * and scraped every second, far more often than Prometheus's default of
 * once a minute), with stock `git annex p2phttp` beside them, on two
 * loads:
 *
 *  - checkpresent requests per second and p99 at 64 keep-alive
 *    connections, and the server's CPU time per request;
 *  - a stock client's `git annex copy` of one big file to the server.
 *
 * Each server's stderr goes to a file, as under a service manager. The
 * ratios are against the quiet run (goal: each under 5 % slower).
 *
 * Usage: node dist/bench/observability.js [SIZE]   (default 1G)
 * Env: BENCH_QUICK=1 (1 s, 64M), BENCH_DURATION (seconds, 5),
 * BENCH_CONCURRENCY (64), BENCH_SERVERS=annexgate,stock.
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  freePort,
  startStockP2pHttp,
} from "../test/helpers/servers.js";
import { checkpresentRepo, type Probe, runLevel } from "./checkpresent-load.js";
import {
  annexIn,
  benchMain,
  type Cleanup,
  envInt,
  firstArg,
  fixed,
  formatSize,
  isQuick,
  MiB,
  makeServerRepo,
  parseSize,
  printTable,
  ratio,
  serverKinds,
  timed,
  treeCpuMs,
  writeRandomFile,
} from "./common.js";

interface Variant {
  readonly name: string;
  /** annexgate's flags; null for stock git-annex. */
  readonly args: readonly string[] | null;
  /** Scrape /metrics once a second while loaded. */
  readonly scrape?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: "quiet (warn, no metrics)", args: ["--log-level", "warn"] },
  { name: "text request lines", args: [] },
  { name: "json request lines", args: ["--log-format", "json"] },
  { name: "json + metrics", args: ["--log-format", "json", "--metrics"] },
  {
    name: "json + metrics, scraped 1/s",
    args: ["--log-format", "json", "--metrics"],
    scrape: true,
  },
  { name: "stock git annex p2phttp", args: null },
];

interface Running {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** annexgate p2phttp with `args`, its stderr to `logFile`; resolves once it answers. */
async function startAnnexgate(
  repo: string,
  args: readonly string[],
  logFile: string,
): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [ANNEXGATE_BIN, "p2phttp", "--bind", "127.0.0.1", "--port", String(port), "--wideopen"].concat([
      "--jobs",
      "8",
      // The scraper asks from the same address as the 64 connections.
      "--max-per-client",
      "128",
      "--max-idle-per-client",
      "128",
      ...args,
    ]),
    { cwd: repo, stdio: ["ignore", "ignore", openSync(logFile, "a")] },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { port, pid: child.pid as number, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`annexgate did not start; see ${logFile}`);
}

async function startVariant(v: Variant, repo: string, logFile: string): Promise<Running> {
  if (v.args !== null) return startAnnexgate(repo, v.args, logFile);
  const s = await startStockP2pHttp(repo, ["--wideopen", "--jobs", "8"]);
  return { port: s.port, pid: s.child.pid as number, stop: () => s.stop() };
}

/** Fetches /metrics once a second until stopped (what a Prometheus scraper does). */
function scraper(port: number): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    for (let i = 0; on && i < 3600; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
      await r?.text();
      await new Promise((res) => setTimeout(res, 1000));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

interface Row {
  readonly rps: number;
  readonly p99: number;
  readonly cpuUs: number;
  readonly putMiBs: number;
}

async function measure(
  v: Variant,
  top: string,
  cp: { repo: string; probes: Probe[] },
  bigFile: string,
  size: number,
  cleanup: Cleanup,
): Promise<Row> {
  const logFile = join(top, `${v.name.replace(/\W+/g, "-")}.log`);
  const durationMs = envInt("BENCH_DURATION", isQuick() ? 1 : 5) * 1000;
  const conns = envInt("BENCH_CONCURRENCY", 64);
  const s = await startVariant(v, cp.repo, logFile);
  cleanup.add(() => s.stop());
  const stopScraping = v.scrape ? scraper(s.port) : null;
  await runLevel(s.port, cp.probes, 4, 500, 2_000);
  const cpu0 = await treeCpuMs(s.pid);
  const level = await runLevel(s.port, cp.probes, conns, durationMs, 500_000);
  const cpuUs = (((await treeCpuMs(s.pid)) - cpu0) * 1000) / Math.max(1, level.requests);
  await s.stop();
  await stopScraping?.();

  // The put: a fresh server repository and client each time, the same file.
  const dir = join(top, `put-${v.name.replace(/\W+/g, "-")}`);
  const server = await makeServerRepo(join(dir, "server"));
  const ps = await startVariant(v, server, logFile);
  cleanup.add(() => ps.stop());
  const stopPutScraping = v.scrape ? scraper(ps.port) : null;
  const client = await annexHttpClone(server, join(dir, "client"), ps.port);
  await run("cp", [bigFile, join(client, "big")]);
  const annex = annexIn(client);
  await annex("add", "-q", "big");
  const seconds = await timed(() => annex("copy", "-q", "--to", "origin", "big"));
  // The server really has it: a put that did nothing would look fast.
  await annex("fsck", "-q", "--from", "origin", "--fast", "big");
  await stopPutScraping?.();
  await ps.stop();
  await removeDir(dir);
  if (level.errors > 0) {
    console.log(`${v.name}: ${level.errors} checkpresent failed, the first: ${level.firstError}`);
  }
  return { rps: level.rps, p99: level.p99ms, cpuUs, putMiBs: size / MiB / seconds };
}

benchMain("observability", async (cleanup) => {
  const size = parseSize(firstArg() ?? process.env.BENCH_SIZE ?? (isQuick() ? "64M" : "1G"));
  const top = await makeTempDir("annexgate-bench-observability-");
  if (process.env.BENCH_KEEP === undefined) cleanup.add(() => removeDir(top));
  const cp = await checkpresentRepo(join(top, "checkpresent"), isQuick() ? 50 : 200);
  const bigFile = join(top, "big");
  await writeRandomFile(bigFile, size);
  const kinds = serverKinds();
  const variants = VARIANTS.filter((v) => kinds.includes(v.args === null ? "stock" : "annexgate"));
  const rows = new Map<string, Row>();
  for (const v of variants) rows.set(v.name, await measure(v, top, cp, bigFile, size, cleanup));
  const quiet = rows.get(VARIANTS[0]?.name as string);
  console.log(
    `\nannexgate p2phttp with and without request logs and metrics (checkpresent at ${envInt("BENCH_CONCURRENCY", 64)} connections; put of ${formatSize(size)} by a stock client)`,
  );
  printTable(
    ["server", "req/s", "vs quiet", "p99 ms", "CPU µs/req", "vs quiet", "put MiB/s", "vs quiet"],
    [...rows].map(([name, r]) => [
      name,
      fixed(r.rps, 0),
      ratio(r.rps, quiet?.rps),
      fixed(r.p99, 1),
      fixed(r.cpuUs, 0),
      ratio(r.cpuUs, quiet?.cpuUs),
      fixed(r.putMiBs, 1),
      ratio(r.putMiBs, quiet?.putMiBs),
    ]),
  );
});
