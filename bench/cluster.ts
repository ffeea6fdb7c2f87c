/**
 * A cluster gateway, annexgate against stock `git annex p2phttp`, on the
 * same work: a gateway repository with three local nodes in one cluster
 * (set up identically, by stock initcluster/updatecluster), a stock client
 * over annex+http:
 *
 *  (a) one big file to a single proxied node, then to the whole cluster
 *      (fanned out to three nodes) — MiB/s; the fan-out's goal is about the
 *      time of one store, not three;
 *  (b) many 4 KiB files with -J8 to the gateway's own repository (what
 *      the client reaches without a cluster), then to the cluster —
 *      files/s, and the client's CPU per file (stock git-annex and its
 *      gits; on 2 cores it bounds the row); then to the cluster again with
 *      -J1, where that client spends a fraction of -J8's CPU per file;
 *  (c) the big file back from the cluster, from one proxied node and from
 *      the gateway's own repository (what the same client reaches with no
 *      node in the way) — MiB/s; the small files back from the cluster —
 *      files/s;
 *  (d) checkpresent on the cluster at 64 keep-alive connections, half of
 *      the keys present — requests/s, p50 and p99;
 *
 * plus the server process tree's peak memory.
 *
 * Usage: node dist/bench/cluster.js [SIZE]   (default 1G; BENCH_SIZE too)
 * Env: BENCH_QUICK=1 (64M, 100 files), BENCH_FILES (small file count,
 * 1000), BENCH_JOBS (server --jobs and --clusterjobs, 8), BENCH_TIMEOUT
 * (seconds per command, 600), BENCH_SERVERS=annexgate,stock.
 */

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { localCluster } from "../test/helpers/cluster.js";
import { makeTempDir, removeDir } from "../test/helpers/index.js";
import {
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
  startStockP2pHttp,
} from "../test/helpers/servers.js";
import { type Level, runLevel } from "./checkpresent-load.js";
import {
  annexIn,
  benchMain,
  brief,
  type Cleanup,
  envInt,
  fillClient,
  firstArg,
  fixed,
  formatSize,
  isQuick,
  MiB,
  parseSize,
  printTable,
  RssSampler,
  ratio,
  type ServerKind,
  SMALL_SIZE,
  serverKinds,
  timed,
  writeRandomFile,
} from "./common.js";

const NODES = ["node1", "node2", "node3"];

interface Result {
  oneNodeMiBs?: number;
  fanOutMiBs?: number;
  putFilesPerS?: number;
  putOwnFilesPerS?: number;
  clientCpuMsPerFile?: number;
  putOneAtATimeFilesPerS?: number;
  clientCpuMsPerFileOneAtATime?: number;
  getMiBs?: number;
  getOneNodeMiBs?: number;
  getOwnMiBs?: number;
  getFilesPerS?: number;
  checkpresent?: Level;
  peakRssMiB?: number;
  errors: string[];
}

/**
 * Wall seconds of `work` and the CPU its child processes used (user and
 * system, from this process's counters of waited-for children, which
 * include their own waited-for children): the stock client and its gits.
 */
async function clientCpu(
  work: () => Promise<unknown>,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const before = childrenCpuSeconds();
  const seconds = await timed(work);
  return { seconds, cpuSeconds: childrenCpuSeconds() - before };
}

/** cutime + cstime of /proc/self/stat, in seconds (USER_HZ is 100 on Linux). */
function childrenCpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

async function benchServer(
  cleanup: Cleanup,
  kind: ServerKind,
  top: string,
  bigFile: string,
  bigSize: number,
  nSmall: number,
  jobs: number,
): Promise<Result> {
  const dir = join(top, kind);
  await mkdir(dir);
  cleanup.add(() => removeDir(dir));
  const { gw, cluster } = await localCluster(dir, NODES, "stock");
  const args = ["--wideopen", "--jobs", String(jobs), "--clusterjobs", String(jobs)];
  // Every checkpresent connection comes from one address: annexgate's
  // per-client limit (32 by default; stock has none) is raised to the level.
  const perClient = ["--max-per-client", String(CHECKPRESENT_CONNECTIONS)];
  const server: RunningP2pHttp =
    kind === "annexgate"
      ? await startAnnexgate(gw, [...args, ...perClient])
      : await startStockP2pHttp(gw, args);
  cleanup.add(() => server.stop());
  const sampler = new RssSampler(server.child.pid as number);
  await sampler.start();
  const result: Result = { errors: [] };
  try {
    const client = await annexHttpClone(gw, join(dir, "client"), server.port);
    const annex = annexIn(client);
    await fillClient(client, bigFile, nSmall);

    try {
      await annex("copy", "-q", "--to", "origin", "big.bin");
      await annex("drop", "-q", "big.bin");
      result.getOwnMiBs = bigSize / MiB / (await timed(() => annex("get", "-q", "big.bin")));
      await annex("drop", "-q", "--from", "origin", "big.bin");
      const one = await timed(() => annex("copy", "-q", "--to", "origin-node1", "big.bin"));
      result.oneNodeMiBs = bigSize / MiB / one;
      await annex("drop", "-q", "big.bin");
      const fromOne = await timed(() => annex("get", "-q", "--from", "origin-node1", "big.bin"));
      result.getOneNodeMiBs = bigSize / MiB / fromOne;
      await annex("drop", "-q", "--from", "origin-node1", "big.bin");
      const fan = await timed(() => annex("copy", "-q", "--to", "origin-mycluster", "big.bin"));
      result.fanOutMiBs = bigSize / MiB / fan;
      const onNodes = (await annex("whereis", "big.bin")).match(/origin-node\d/g) ?? [];
      if (onNodes.length !== NODES.length) {
        result.errors.push(`big file on ${onNodes.length} nodes, not ${NODES.length}`);
      }
      await annex("drop", "-q", "big.bin");
      const get = await timed(() => annex("get", "-q", "--from", "origin-mycluster", "big.bin"));
      result.getMiBs = bigSize / MiB / get;
    } catch (e) {
      result.errors.push(`big file: ${brief(e)}`);
    }
    try {
      // The same files to the gateway's own repository first: what this
      // client reaches without a cluster (the ceiling for the cluster row).
      const own = await clientCpu(() => annex("copy", "-q", "-J8", "--to", "origin", "small"));
      result.putOwnFilesPerS = nSmall / own.seconds;
      await annex("drop", "-q", "-J8", "--from", "origin", "small");
      const put = await clientCpu(() =>
        annex("copy", "-q", "-J8", "--to", "origin-mycluster", "small"),
      );
      result.putFilesPerS = nSmall / put.seconds;
      result.clientCpuMsPerFile = (put.cpuSeconds * 1000) / nSmall;
      result.checkpresent = await checkpresentOnCluster(client, cluster, server.port, nSmall);
      // Again one file at a time: the stock client's own CPU per file grows
      // with -J (its concurrency, not the server's work), so -J1 shows
      // what the gateway's per-file path allows.
      await annex("drop", "-q", "-J8", "--from", "origin-mycluster", "small");
      const one = await clientCpu(() =>
        annex("copy", "-q", "-J1", "--to", "origin-mycluster", "small"),
      );
      result.putOneAtATimeFilesPerS = nSmall / one.seconds;
      result.clientCpuMsPerFileOneAtATime = (one.cpuSeconds * 1000) / nSmall;
      await annex("drop", "-q", "-J8", "small");
      const get = await timed(() =>
        annex("get", "-q", "-J8", "--from", "origin-mycluster", "small"),
      );
      result.getFilesPerS = nSmall / get;
      const here = (await annex("find", "small")).split("\n").filter((l) => l !== "");
      if (here.length !== nSmall) result.errors.push(`got back ${here.length} of ${nSmall}`);
    } catch (e) {
      result.errors.push(`small files: ${brief(e)}`);
    }
    return result;
  } finally {
    result.peakRssMiB = (await sampler.stop()).tree / 1024;
    await server.stop();
    await removeDir(dir);
  }
}

/** Connections of the checkpresent row. */
const CHECKPRESENT_CONNECTIONS = 64;

/**
 * checkpresent on the cluster, asked by CHECKPRESENT_CONNECTIONS keep-alive
 * connections: every small file's key (on the cluster) and as many absent
 * ones, every answer checked; after a warm-up that is not counted.
 */
async function checkpresentOnCluster(
  client: string,
  cluster: string,
  port: number,
  nSmall: number,
): Promise<Level> {
  const keys = (await annexIn(client)("find", "--json", "small"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as { key: string }).key);
  const asker = randomUUID();
  const path = (key: string) =>
    `/git-annex/${cluster}/v4/checkpresent?key=${encodeURIComponent(key)}&clientuuid=${asker}`;
  const probes = keys.flatMap((k, i) => [
    { path: path(k), present: true },
    { path: path(k.replace(/--[0-9a-f]{8}/, `--${String(i).padStart(8, "0")}`)), present: false },
  ]);
  await runLevel(port, probes, 4, 1_000, 1_000);
  const requests = Math.max(2_000, nSmall * 20);
  return runLevel(port, probes, CHECKPRESENT_CONNECTIONS, 60_000, requests);
}

benchMain("cluster", async (cleanup) => {
  const quick = isQuick();
  const bigSize = parseSize(firstArg() ?? process.env.BENCH_SIZE ?? (quick ? "64M" : "1G"));
  const nSmall = envInt("BENCH_FILES", quick ? 100 : 1000);
  const jobs = envInt("BENCH_JOBS", 8);
  const top = await makeTempDir("annexgate-bench-cluster-");
  cleanup.add(() => removeDir(top));
  const bigFile = join(top, "big.bin");
  await writeRandomFile(bigFile, bigSize);

  const results = new Map<ServerKind, Result>();
  for (const kind of serverKinds()) {
    results.set(kind, await benchServer(cleanup, kind, top, bigFile, bigSize, nSmall, jobs));
  }
  const a = results.get("annexgate");
  const s = results.get("stock");
  console.log(
    `\n== cluster gateway: 3 local nodes, stock client over annex+http, big file ${formatSize(bigSize)}, ` +
      `${nSmall} x ${formatSize(SMALL_SIZE)} files with -J8, server --jobs/--clusterjobs ${jobs} ==`,
  );
  const row = (name: string, f: (r: Result | undefined) => number | undefined) => [
    name,
    fixed(f(a)),
    fixed(f(s)),
    ratio(f(a), f(s)),
  ];
  printTable(
    ["measure", "annexgate", "stock", "annexgate/stock"],
    [
      row("big file to one proxied node (MiB/s)", (r) => r?.oneNodeMiBs),
      row("big file to the cluster, 3 nodes (MiB/s)", (r) => r?.fanOutMiBs),
      row("small files to the gateway's own repository (files/s)", (r) => r?.putOwnFilesPerS),
      row("small files to the cluster (files/s)", (r) => r?.putFilesPerS),
      row("  client CPU per file, cluster put (ms)", (r) => r?.clientCpuMsPerFile),
      row("small files to the cluster, -J1 (files/s)", (r) => r?.putOneAtATimeFilesPerS),
      row("  client CPU per file, -J1 (ms)", (r) => r?.clientCpuMsPerFileOneAtATime),
      row("big file from the cluster (MiB/s)", (r) => r?.getMiBs),
      row("big file from one proxied node (MiB/s)", (r) => r?.getOneNodeMiBs),
      row("big file from the gateway's own repository (MiB/s)", (r) => r?.getOwnMiBs),
      row("small files from the cluster (files/s)", (r) => r?.getFilesPerS),
      row(
        `checkpresent on the cluster, ${CHECKPRESENT_CONNECTIONS} connections (req/s)`,
        (r) => r?.checkpresent?.rps,
      ),
      row("  p50 latency (ms)", (r) => r?.checkpresent?.p50ms),
      row("  p99 latency (ms)", (r) => r?.checkpresent?.p99ms),
      row("server peak RSS, process tree (MiB)", (r) => r?.peakRssMiB),
    ],
  );
  // The download goal: from the cluster, at least 80 % of the gateway's own disk.
  for (const [kind, r] of results) {
    if (r.getMiBs !== undefined && r.getOwnMiBs !== undefined) {
      console.log(
        `${kind}: big file from the cluster at ${fixed((100 * r.getMiBs) / r.getOwnMiBs, 0)} % of the gateway's own repository`,
      );
    }
    if (r.checkpresent !== undefined && r.checkpresent.errors > 0) {
      r.errors.push(
        `checkpresent: ${r.checkpresent.errors} errors, first: ${r.checkpresent.firstError}`,
      );
    }
  }
  for (const [kind, r] of results) {
    if (r.oneNodeMiBs !== undefined && r.fanOutMiBs !== undefined) {
      console.log(
        `${kind}: fan-out to 3 nodes takes ${fixed(r.oneNodeMiBs / r.fanOutMiBs, 2)}x the time of one store`,
      );
    }
    for (const e of r.errors) console.log(`${kind} error: ${e}`);
  }
});
