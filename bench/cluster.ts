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
 *      gits; on 2 cores it bounds the row);
 *  (c) the big file and the small files back from the cluster — MiB/s,
 *      files/s;
 *
 * plus the server process tree's peak memory.
 *
 * Usage: node dist/bench/cluster.js [SIZE]   (default 1G; BENCH_SIZE too)
 * Env: BENCH_QUICK=1 (64M, 100 files), BENCH_FILES (small file count,
 * 1000), BENCH_JOBS (server --jobs and --clusterjobs, 8), BENCH_TIMEOUT
 * (seconds per command, 600), BENCH_SERVERS=annexgate,stock.
 */
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
  getMiBs?: number;
  getFilesPerS?: number;
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
  const { gw } = await localCluster(dir, NODES, "stock");
  const args = ["--wideopen", "--jobs", String(jobs), "--clusterjobs", String(jobs)];
  const server: RunningP2pHttp =
    kind === "annexgate" ? await startAnnexgate(gw, args) : await startStockP2pHttp(gw, args);
  cleanup.add(() => server.stop());
  const sampler = new RssSampler(server.child.pid as number);
  await sampler.start();
  const result: Result = { errors: [] };
  try {
    const client = await annexHttpClone(gw, join(dir, "client"), server.port);
    const annex = annexIn(client);
    await fillClient(client, bigFile, nSmall);

    try {
      const one = await timed(() => annex("copy", "-q", "--to", "origin-node1", "big.bin"));
      result.oneNodeMiBs = bigSize / MiB / one;
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
      row("big file from the cluster (MiB/s)", (r) => r?.getMiBs),
      row("small files from the cluster (files/s)", (r) => r?.getFilesPerS),
      row("server peak RSS, process tree (MiB)", (r) => r?.peakRssMiB),
    ],
  );
  for (const [kind, r] of results) {
    if (r.oneNodeMiBs !== undefined && r.fanOutMiBs !== undefined) {
      console.log(
        `${kind}: fan-out to 3 nodes takes ${fixed(r.oneNodeMiBs / r.fanOutMiBs, 2)}x the time of one store`,
      );
    }
    for (const e of r.errors) console.log(`${kind} error: ${e}`);
  }
});
