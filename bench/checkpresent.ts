/**
 * checkpresent requests per second and latency (p50/p99) at 1, 16 and 64
 * concurrent keep-alive connections, annexgate against stock
 * `git annex p2phttp`, on a repository holding some keys. Half the asked
 * keys are present, half are not; every answer is checked. Also the
 * server's CPU time per request (its whole process tree), which a busy
 * machine disturbs far less than requests per second.
 *
 * Usage: node dist/bench/checkpresent.js
 * Env: BENCH_QUICK=1 (1 s per level), BENCH_DURATION (seconds per level, 5),
 * BENCH_MAX_REQUESTS (per level, 500000), BENCH_CONCURRENCY (1,16,64),
 * BENCH_KEYS (keys in the repository, 200), BENCH_JOBS (server --jobs, 4),
 * BENCH_SERVERS=annexgate,stock.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { type Level, type Probe, runLevel } from "./checkpresent-load.js";
import {
  benchMain,
  envInt,
  fixed,
  isQuick,
  makeServerRepo,
  printTable,
  ratio,
  repoUuid,
  type ServerKind,
  serverKinds,
  startCleanly,
  treeCpuMs,
} from "./common.js";

benchMain("checkpresent", async (cleanup) => {
  const quick = isQuick();
  const durationMs = envInt("BENCH_DURATION", quick ? 1 : 5) * 1000;
  const maxRequests = envInt("BENCH_MAX_REQUESTS", 500_000);
  const nKeys = envInt("BENCH_KEYS", quick ? 50 : 200);
  const jobs = envInt("BENCH_JOBS", 4);
  const levels = (process.env.BENCH_CONCURRENCY ?? "1,16,64")
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  const kinds = serverKinds();

  const top = await makeTempDir("annexgate-bench-checkpresent-");
  cleanup.add(() => removeDir(top));
  // One repository with nKeys annexed files, served by each server in turn.
  const repo = await makeServerRepo(join(top, "server"));
  await mkdir(join(repo, "data"));
  for (let i = 0; i < nKeys; i++) {
    await writeFile(join(repo, "data", `f${i}.dat`), randomBytes(1024));
  }
  await run("git", ["annex", "add", "-q", "data"], { cwd: repo });
  await run("git", ["commit", "-q", "-m", "data"], { cwd: repo });
  const present = (await run("git", ["annex", "find", "--json"], { cwd: repo }))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as { key: string }).key);
  if (present.length !== nKeys) throw new Error(`expected ${nKeys} keys, found ${present.length}`);
  const uuid = await repoUuid(repo);
  const client = randomUUID();
  const absent = present.map((_, i) => {
    const hash = createHash("sha256").update(`absent ${i}`).digest("hex");
    return `SHA256E-s1024--${hash}.dat`;
  });
  const path = (key: string) =>
    `/git-annex/${uuid}/v4/checkpresent?key=${encodeURIComponent(key)}&clientuuid=${client}`;
  const probes: Probe[] = present.flatMap((k, i) => [
    { path: path(k), present: true },
    { path: path(absent[i] as string), present: false },
  ]);

  // Every connection comes from one address. annexgate refuses a client's
  // requests past --max-per-client (32) with 429, by design; stock has no
  // such limit. Both serve the same work here: the limit is the largest level.
  const perClient = ["--max-per-client", String(Math.max(...levels))];
  const results = new Map<ServerKind, Level[]>();
  for (const kind of kinds) {
    const server = await startCleanly(cleanup, kind, repo, jobs, perClient);
    try {
      // Warm-up, not counted: connections, caches, the JIT.
      await runLevel(server.port, probes, 4, 500, 2_000);
      const rows: Level[] = [];
      const pid = server.child.pid as number;
      for (const c of levels) {
        const cpu0 = await treeCpuMs(pid);
        const level = await runLevel(server.port, probes, c, durationMs, maxRequests);
        const cpuMs = (await treeCpuMs(pid)) - cpu0;
        rows.push({ ...level, cpuUsPerRequest: (cpuMs * 1000) / Math.max(1, level.requests) });
      }
      results.set(kind, rows);
    } finally {
      await server.stop();
    }
  }

  console.log(
    `\n== checkpresent: ${nKeys} keys present + ${nKeys} absent, ${durationMs / 1000} s per level ` +
      `(at most ${maxRequests} requests), keep-alive, server --jobs ${jobs} ==`,
  );
  const rows: string[][] = [];
  for (const [i, c] of levels.entries()) {
    const a = results.get("annexgate")?.[i];
    const s = results.get("stock")?.[i];
    rows.push([
      String(c),
      fixed(a?.rps, 0),
      fixed(s?.rps, 0),
      ratio(a?.rps, s?.rps),
      fixed(a?.p50ms, 2),
      fixed(s?.p50ms, 2),
      fixed(a?.p99ms, 2),
      fixed(s?.p99ms, 2),
      fixed(a?.cpuUsPerRequest, 0),
      fixed(s?.cpuUsPerRequest, 0),
      `${a?.errors ?? "-"}/${s?.errors ?? "-"}`,
    ]);
  }
  printTable(
    [
      "conns",
      "annexgate req/s",
      "stock req/s",
      "annexgate/stock",
      "ag p50 ms",
      "stock p50 ms",
      "ag p99 ms",
      "stock p99 ms",
      "ag cpu us/req",
      "stock cpu us/req",
      "errors ag/stock",
    ],
    rows,
  );
  for (const [kind, list] of results) {
    console.log(
      `${kind}: ${list.map((l) => `${l.requests} requests in ${fixed(l.seconds, 1)} s`).join(", ")}`,
    );
  }
});
