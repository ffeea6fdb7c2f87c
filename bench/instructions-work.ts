import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { localCluster } from "../test/helpers/cluster.js";
import { annexHttpClone } from "../test/helpers/servers.js";
import { CountedServer } from "./callgrind.js";
import { checkpresentRepo, type Probe, runLevel } from "./checkpresent-load.js";
import { annexIn, fillClient, MiB, writeRandomFile } from "./common.js";

export interface WorkOptions {
  /** checkpresent requests per level and round. */
  readonly requests: number;
  readonly bigSize: number;
  readonly files: number;
  /** How much slower the server's clock runs (bench/slow-clock.ts). */
  readonly clockSlowdown: number;
  /** Counted rounds of each phase; the lowest is the figure. */
  readonly rounds: number;
  /** More arguments for the server (e.g. `--log-level warn` for one tree only). */
  readonly serverArgs: readonly string[];
}

/** Figures by label: instructions per unit of work. */
export type Figures = Map<string, number>;

/** The built CLI of `tree` and whether it knows `--max-per-client` (newer trees limit clients). */
async function serverOf(tree: string): Promise<{ main: string; perClientFlag: boolean }> {
  const cli = join(tree, "dist", "src", "cli");
  let perClientFlag = false;
  for (const f of await readdir(cli)) {
    if (f.endsWith(".js") && (await readFile(join(cli, f), "utf8")).includes("max-per-client")) {
      perClientFlag = true;
    }
  }
  return { main: join(cli, "main.js"), perClientFlag };
}

async function startCounted(
  tree: string,
  repo: string,
  dir: string,
  args: readonly string[],
  opts: WorkOptions,
): Promise<CountedServer> {
  const { main, perClientFlag } = await serverOf(tree);
  const here = join(dirname(fileURLToPath(import.meta.url)), "slow-clock.js");
  return CountedServer.start({
    main,
    nodeArgs: ["--single-threaded", "--import", here],
    repo,
    args: [...args, ...(perClientFlag ? ["--max-per-client", "64"] : []), ...opts.serverArgs],
    dir,
    env: { BENCH_CLOCK_SLOWDOWN: String(opts.clockSlowdown) },
  });
}

/**
 * The lowest of `rounds` counts of `work`, each after `prepare` (not
 * counted); every count and their median are printed.
 */
async function lowestOf(
  rounds: number,
  server: CountedServer,
  work: () => Promise<unknown>,
  prepare: () => Promise<unknown> = async () => {},
): Promise<number> {
  const counts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await prepare();
    counts.push(await server.count(work));
  }
  const sorted = [...counts].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;
  console.log(
    `    counted ${counts.map((c) => (c / 1e6).toFixed(1)).join(" and ")} MIr (median ${(median / 1e6).toFixed(1)})`,
  );
  return sorted[0] as number;
}

/** Fails the bench when the load saw a wrong answer: counts of failed work mean nothing. */
async function load(port: number, probes: Probe[], conns: number, n: number): Promise<void> {
  const level = await runLevel(port, probes, conns, 3_600_000, n, 600_000);
  if (level.errors > 0) throw new Error(`checkpresent: ${level.firstError}`);
}

/** Puts and gets of `big.bin` and `small/` to `remote`, counted per MiB and per file. */
async function transfers(
  server: CountedServer,
  client: string,
  remote: string,
  opts: WorkOptions,
  figures: Figures,
  what: string,
): Promise<void> {
  const annex = annexIn(client);
  const mib = opts.bigSize / MiB;
  // Content is dropped with --force before a get, so that no request of
  // the drop's (a lock to check the remote's copy) is counted.
  const putBig = await lowestOf(
    opts.rounds,
    server,
    () => annex("copy", "-q", "--to", remote, "big.bin"),
    () => annex("drop", "-q", "--from", remote, "big.bin"),
  );
  const getBig = await lowestOf(
    opts.rounds,
    server,
    () => annex("get", "-q", "--from", remote, "big.bin"),
    () => annex("drop", "-q", "--force", "big.bin"),
  );
  const putSmall = await lowestOf(
    opts.rounds,
    server,
    () => annex("copy", "-q", "-J8", "--to", remote, "small"),
    () => annex("drop", "-q", "-J8", "--from", remote, "small"),
  );
  const getSmall = await lowestOf(
    opts.rounds,
    server,
    () => annex("get", "-q", "-J8", "--from", remote, "small"),
    () => annex("drop", "-q", "-J8", "--force", "small"),
  );
  figures.set(`put big file, ${what} (MIr/MiB)`, putBig / mib / 1e6);
  figures.set(`get big file, ${what} (MIr/MiB)`, getBig / mib / 1e6);
  figures.set(`put small files, ${what} (MIr/file)`, putSmall / opts.files / 1e6);
  figures.set(`get small files, ${what} (MIr/file)`, getSmall / opts.files / 1e6);
}

/** checkpresent at 1, 16 and 64 connections, after the JIT has settled. */
async function checkpresentLevels(
  server: CountedServer,
  probes: Probe[],
  opts: WorkOptions,
  figures: Figures,
): Promise<void> {
  // The JIT settles over the first ten thousand requests or so.
  for (const conns of [1, 16, 64]) await load(server.port, probes, conns, 2 * opts.requests);
  for (const conns of [1, 16, 64]) {
    const n = await lowestOf(opts.rounds, server, () =>
      load(server.port, probes, conns, opts.requests),
    );
    figures.set(`checkpresent, ${conns} conns (kIr/request)`, n / opts.requests / 1e3);
  }
}

/** One server on a plain repository: checkpresent, then (unless `transfers` is false) a stock client's transfers. */
export async function plainWork(
  tree: string,
  dir: string,
  opts: WorkOptions,
  withTransfers = true,
): Promise<Figures> {
  const { repo, probes } = await checkpresentRepo(join(dir, "server"), 50);
  const server = await startCounted(tree, repo, dir, ["--wideopen", "--jobs", "4"], opts);
  const figures: Figures = new Map();
  try {
    await checkpresentLevels(server, probes, opts, figures);
    if (!withTransfers) return figures;
    const bigFile = join(dir, "big.bin");
    await writeRandomFile(bigFile, opts.bigSize);
    const client = await annexHttpClone(repo, join(dir, "client"), server.port);
    await fillClient(client, bigFile, opts.files);
    await transfers(server, client, "origin", opts, figures, "repository");
    return figures;
  } finally {
    await server.stop();
  }
}

/** checkpresent on a plain repository only (the quick set). */
export function checkpresentWork(tree: string, dir: string, opts: WorkOptions): Promise<Figures> {
  return plainWork(tree, dir, opts, false);
}

/** One gateway in front of a 3-node cluster of local repositories. */
export async function clusterWork(tree: string, dir: string, opts: WorkOptions): Promise<Figures> {
  const { gw } = await localCluster(dir, ["node1", "node2", "node3"], "stock");
  const bigFile = join(dir, "big.bin");
  await writeRandomFile(bigFile, opts.bigSize);
  const args = ["--wideopen", "--jobs", "8", "--clusterjobs", "8"];
  const server = await startCounted(tree, gw, dir, args, opts);
  const figures: Figures = new Map();
  try {
    const client = await annexHttpClone(gw, join(dir, "client"), server.port);
    await fillClient(client, bigFile, opts.files);
    const annex = annexIn(client);
    const oneNode = await lowestOf(
      opts.rounds,
      server,
      () => annex("copy", "-q", "--to", "origin-node1", "big.bin"),
      () => annex("drop", "-q", "--from", "origin-node1", "big.bin"),
    );
    figures.set("put big file, one proxied node (MIr/MiB)", oneNode / (opts.bigSize / MiB) / 1e6);
    await transfers(server, client, "origin-mycluster", opts, figures, "cluster");
    return figures;
  } finally {
    await server.stop();
  }
}
