import { join } from "node:path";
import { makeTempDir, removeDir } from "../test/helpers/index.js";
import { checkpresentRepo, type Level, runLevel } from "./checkpresent-load.js";
import {
  benchMain,
  envInt,
  fixed,
  isQuick,
  printTable,
  ratio,
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
  const { repo, probes } = await checkpresentRepo(join(top, "server"), nKeys);

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
