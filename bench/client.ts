/**
 * annexgate/client, the library, against a gateway:
 *
 *  (a) many 4 KiB files to a three-node cluster behind `annexgate
 *      p2phttp`: through the library (computeKey + put, 8 in flight) and
 *      with stock `git annex copy -J8` (files added beforehand, untimed),
 *      each to a fresh gateway set up the same way — files/s, and the
 *      gateway's CPU (its process tree: utime + stime from /proc);
 *  (b) one big file to an S3 node (s3rver on loopback, in a process of its
 *      own, proxied by the gateway) through the library: a normal put through
 *      the gateway, then indirect uploads (`--indirect-uploads`: the
 *      content straight to S3 through presigned URLs, then DATA-PRESENT),
 *      checked by reading the object back (the default) and by its size
 *      only — MiB/s, the gateway's CPU seconds (and the S3 server's), and
 *      the request bytes the gateway took in (its metrics), with ratios to
 *      the normal put.
 *
 * Usage: node dist/bench/client.js [SIZE]   (default 1G; BENCH_SIZE too)
 * Env: BENCH_QUICK=1 (64M, 100 files), BENCH_FILES (small file count,
 * 1000), BENCH_JOBS (gateway --jobs and --clusterjobs, 8), BENCH_TIMEOUT
 * (seconds per command, 600).
 */

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, openAsBlob } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type AnnexClient, computeKey, connect, parseKey } from "../src/client/index.js";
import { configCommand, gatewayRepo, localCluster } from "../test/helpers/cluster.js";
import { makeTempDir, removeDir, run, waitFor } from "../test/helpers/index.js";
import { parseMetrics, type Sample, sumOf } from "../test/helpers/metrics.js";
import { initStockS3Remote, type S3Endpoint } from "../test/helpers/s3-server.js";
import {
  annexHttpClone,
  freePort,
  type RunningP2pHttp,
  startAnnexgate,
} from "../test/helpers/servers.js";
import {
  annexIn,
  benchMain,
  brief,
  type Cleanup,
  envInt,
  firstArg,
  fixed,
  formatSize,
  isQuick,
  MiB,
  parseSize,
  printTable,
  ratio,
  SMALL_SIZE,
  timed,
  treeCpuMs,
  writeRandomFile,
} from "./common.js";

const NODES = ["node1", "node2", "node3"];
/** Uploads in flight, for the library and for stock (-J8) alike. */
const IN_FLIGHT = 8;

interface Measure {
  /** files/s or MiB/s */
  rate?: number;
  /** The gateway's CPU seconds over the timed work. */
  cpuS?: number;
  /** HTTP requests the gateway answered, by endpoint. */
  requests?: Map<string, number>;
  /** The S3 server's CPU seconds over the timed work. */
  s3CpuS?: number;
  /** Request bytes the gateway took in (MiB), from its metrics. */
  inMiB?: number;
  errors: string[];
}

/** The p2phttp URL of a gateway, as the library takes it. */
function annexUrl(server: RunningP2pHttp): string {
  return `annex+http://127.0.0.1:${server.port}/git-annex/`;
}

/** The gateway's metrics. */
async function metricsOf(server: RunningP2pHttp): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  return parseMetrics(await res.text());
}

/** The requests the gateway answered so far, by endpoint (the probe of /metrics aside). */
async function requestsOf(server: RunningP2pHttp): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const s of await metricsOf(server)) {
    if (s.name !== "annexgate_http_requests_total") continue;
    const endpoint = s.labels.endpoint ?? "?";
    counts.set(endpoint, (counts.get(endpoint) ?? 0) + s.value);
  }
  return counts;
}

/** Times `work` and the gateway's CPU over it. */
async function measured(
  server: RunningP2pHttp,
  work: () => Promise<unknown>,
): Promise<{ seconds: number; cpuS: number }> {
  const pid = server.child.pid as number;
  const cpu0 = await treeCpuMs(pid);
  const seconds = await timed(work);
  return { seconds, cpuS: ((await treeCpuMs(pid)) - cpu0) / 1000 };
}

/** A fresh cluster of NODES under `dir`, its gateway served by annexgate p2phttp. */
async function servedCluster(
  cleanup: Cleanup,
  dir: string,
  jobs: number,
): Promise<{ gw: string; cluster: string; server: RunningP2pHttp }> {
  await mkdir(dir);
  cleanup.add(() => removeDir(dir));
  const { gw, cluster } = await localCluster(dir, NODES, "stock");
  const j = String(jobs);
  const args = ["--wideopen", "--metrics", "--jobs", j, "--clusterjobs", j];
  const server = await startAnnexgate(gw, args);
  cleanup.add(() => server.stop());
  return { gw, cluster, server };
}

/** (a), the library: every file of `files` keyed and put, IN_FLIGHT at once. */
async function smallThroughLibrary(
  cleanup: Cleanup,
  dir: string,
  files: string,
  jobs: number,
): Promise<Measure> {
  const { cluster, server } = await servedCluster(cleanup, dir, jobs);
  const result: Measure = { errors: [] };
  const client = await connect({ url: annexUrl(server), uuid: cluster, maxRequests: IN_FLIGHT });
  try {
    const names = (await readdir(files)).sort();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < names.length; i = next++) {
        const name = names[i] as string;
        const file = await openAsBlob(join(files, name));
        const key = await computeKey(file, { fileName: name });
        const { stored } = await client.put(key, file, { associatedFile: name });
        if (!stored) result.errors.push(`${name}: not stored`);
      }
    };
    const m = await measured(server, () => Promise.all(Array.from({ length: IN_FLIGHT }, worker)));
    result.rate = names.length / m.seconds;
    result.cpuS = m.cpuS;
    result.requests = await requestsOf(server);
  } catch (e) {
    result.errors.push(brief(e));
  } finally {
    await client.close();
    await server.stop();
  }
  return result;
}

/** (a), stock: the same files added in a clone, then `copy -J8` to the cluster. */
async function smallThroughStock(
  cleanup: Cleanup,
  dir: string,
  files: string,
  jobs: number,
): Promise<Measure> {
  const { gw, server } = await servedCluster(cleanup, dir, jobs);
  const result: Measure = { errors: [] };
  try {
    const client = await annexHttpClone(gw, join(dir, "client"), server.port);
    const annex = annexIn(client);
    await run("cp", ["-r", files, join(client, "small")]);
    await annex("add", "-q", "small");
    await run("git", ["commit", "-q", "-m", "content"], { cwd: client });
    const m = await measured(server, () =>
      annex("copy", "-q", `-J${IN_FLIGHT}`, "--to", "origin-mycluster", "small"),
    );
    const n = (await readdir(files)).length;
    result.rate = n / m.seconds;
    result.cpuS = m.cpuS;
    result.requests = await requestsOf(server);
    const there = (await annex("find", "--in", "origin-mycluster", "small")).split("\n");
    const count = there.filter((l) => l !== "").length;
    if (count !== n) result.errors.push(`${count} of ${n} files on the cluster`);
  } catch (e) {
    result.errors.push(brief(e));
  } finally {
    await server.stop();
  }
  return result;
}

/** The ways (b) uploads the big file, each to its own gateway process. */
const BIG_WAYS = [
  { name: "through the gateway (put)", ext: "put", indirect: false, args: [] },
  {
    name: "indirect, verified by reading back",
    ext: "rdbk",
    indirect: true,
    args: ["--indirect-uploads"],
  },
  {
    name: "indirect, size only",
    ext: "size",
    indirect: true,
    args: ["--indirect-uploads", "--indirect-verify", "size"],
  },
] as const;

/** One upload of (b): the big file under its own key, then removed again. */
async function bigUpload(
  gw: string,
  s3: { readonly uuid: string; readonly pid: number },
  bigFile: string,
  hash: string,
  way: (typeof BIG_WAYS)[number],
): Promise<Measure> {
  const server = await startAnnexgate(gw, ["--wideopen", "--metrics", ...way.args]);
  const result: Measure = { errors: [] };
  let client: AnnexClient | undefined;
  try {
    client = await connect({ url: annexUrl(server), uuid: s3.uuid });
    const c = client;
    const file = await openAsBlob(bigFile);
    // The same content under a key of its own for each way (the extension differs).
    const key = parseKey(`SHA256E-s${file.size}--${hash}.${way.ext}`);
    const s3Cpu0 = await treeCpuMs(s3.pid);
    const m = await measured(server, async () => {
      const { stored } = await c.put(key, file, { indirect: way.indirect });
      if (!stored) result.errors.push("not stored");
    });
    result.s3CpuS = ((await treeCpuMs(s3.pid)) - s3Cpu0) / 1000;
    result.rate = file.size / MiB / m.seconds;
    result.cpuS = m.cpuS;
    const samples = await metricsOf(server);
    result.inMiB = sumOf(samples, "annexgate_http_bytes_total", { direction: "in" }) / MiB;
    if (!(await c.checkPresent(key))) result.errors.push("not on the S3 node afterwards");
    await c.remove(key);
  } catch (e) {
    result.errors.push(brief(e));
  } finally {
    await client?.close();
    await server.stop();
  }
  return result;
}

/**
 * s3rver in a process of its own (the demo's, dist/scripts/demo-s3.js),
 * so that neither the library's uploads nor the gateway share its event
 * loop; stopped by `cleanup`.
 */
async function startS3Process(
  cleanup: Cleanup,
  dir: string,
): Promise<S3Endpoint & { pid: number }> {
  await mkdir(dir);
  const port = await freePort();
  const ready = join(dir, "ready");
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "demo-s3.js");
  const child = spawn(process.execPath, [script, join(dir, "data"), String(port), ready], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  });
  await waitFor("the S3 server to listen", async () => {
    if (child.exitCode !== null) throw new Error(`the S3 server exited (${child.exitCode})`);
    return readFile(ready, "utf8").then(
      () => true,
      () => false,
    );
  });
  return { host: "127.0.0.1", port, pid: child.pid as number };
}

/** (b): a gateway with a proxied S3 remote on s3rver, and each way of uploading to it. */
async function bigToS3(cleanup: Cleanup, top: string, bigFile: string): Promise<Measure[]> {
  const s3 = await startS3Process(cleanup, join(top, "s3"));
  const gw = await gatewayRepo(join(top, "s3-gw"), "gateway");
  const s3Uuid = await initStockS3Remote(gw, s3, "s3", "annexgate-bench-client");
  await run("git", ["config", "remote.s3.annex-proxy", "true"], { cwd: gw });
  await configCommand("annexgate", gw, ["updateproxy"]);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(bigFile, { highWaterMark: MiB })) {
    hash.update(chunk as Buffer);
  }
  const hex = hash.digest("hex");
  const results: Measure[] = [];
  for (const way of BIG_WAYS) {
    results.push(await bigUpload(gw, { uuid: s3Uuid, pid: s3.pid }, bigFile, hex, way));
  }
  return results;
}

/** `n` random files of SMALL_SIZE in a new directory `dir`. */
async function smallFiles(dir: string, n: number): Promise<void> {
  await mkdir(dir);
  for (let i = 0; i < n; i++) {
    const bytes = new Uint8Array(SMALL_SIZE);
    crypto.getRandomValues(bytes);
    await writeFile(join(dir, `f${String(i).padStart(5, "0")}.dat`), bytes);
  }
}

function printSmall(nSmall: number, lib: Measure, stock: Measure): void {
  console.log(
    `\n== annexgate/client: ${nSmall} x ${formatSize(SMALL_SIZE)} files to a ${NODES.length}-node ` +
      `cluster behind annexgate p2phttp, ${IN_FLIGHT} in flight ==`,
  );
  const perFile = (m: Measure) => (m.cpuS !== undefined ? (m.cpuS * 1000) / nSmall : undefined);
  printTable(
    ["measure", "library", `stock copy -J${IN_FLIGHT}`, "library/stock"],
    [
      ["files/s", fixed(lib.rate), fixed(stock.rate), ratio(lib.rate, stock.rate)],
      ["gateway CPU (s)", fixed(lib.cpuS, 2), fixed(stock.cpuS, 2), ratio(lib.cpuS, stock.cpuS)],
      [
        "gateway CPU per file (ms)",
        fixed(perFile(lib), 2),
        fixed(perFile(stock), 2),
        ratio(perFile(lib), perFile(stock)),
      ],
    ],
  );
  const counts = (m: Measure) =>
    [...(m.requests ?? [])]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([endpoint, n]) => `${endpoint} ${n}`)
      .join(", ");
  console.log(`gateway requests, library: ${counts(lib)}`);
  console.log(`gateway requests, stock: ${counts(stock)}`);
  for (const e of lib.errors) console.log(`library error: ${e}`);
  for (const e of stock.errors) console.log(`stock error: ${e}`);
}

function printBig(bigSize: number, results: readonly Measure[]): void {
  console.log(
    `\n== annexgate/client: ${formatSize(bigSize)} to an S3 node (s3rver on loopback) ` +
      "behind annexgate p2phttp ==",
  );
  const base = results[0];
  printTable(
    [
      "upload",
      "MiB/s",
      "gateway CPU (s)",
      "S3 server CPU (s)",
      "MiB into gateway",
      "MiB/s vs put",
      "gateway CPU vs put",
    ],
    BIG_WAYS.map((way, i) => {
      const r = results[i];
      return [
        way.name,
        fixed(r?.rate),
        fixed(r?.cpuS, 2),
        fixed(r?.s3CpuS, 2),
        fixed(r?.inMiB),
        ratio(r?.rate, base?.rate),
        ratio(r?.cpuS, base?.cpuS),
      ];
    }),
  );
  BIG_WAYS.forEach((way, i) => {
    for (const e of results[i]?.errors ?? []) console.log(`${way.name} error: ${e}`);
  });
}

benchMain("client", async (cleanup) => {
  const quick = isQuick();
  const bigSize = parseSize(firstArg() ?? process.env.BENCH_SIZE ?? (quick ? "64M" : "1G"));
  const nSmall = envInt("BENCH_FILES", quick ? 100 : 1000);
  const jobs = envInt("BENCH_JOBS", 8);
  const top = await makeTempDir("annexgate-bench-client-");
  cleanup.add(() => removeDir(top));

  const files = join(top, "files");
  await smallFiles(files, nSmall);
  const lib = await smallThroughLibrary(cleanup, join(top, "library"), files, jobs);
  const stock = await smallThroughStock(cleanup, join(top, "stock"), files, jobs);
  printSmall(nSmall, lib, stock);

  const bigFile = join(top, "big.bin");
  await writeRandomFile(bigFile, bigSize);
  printBig(bigSize, await bigToS3(cleanup, top, bigFile));
});
