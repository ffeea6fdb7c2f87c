/**
 * Special remotes behind a gateway, annexgate against stock `git annex
 * p2phttp` proxying the same kinds of special remote, set up identically
 * by stock git-annex (`initremote`, `annex-proxy=true`, `updateproxy`), a
 * stock client over annex+http. For each remote in REMOTES:
 *
 *  - one big file put through the gateway, then got back — MiB/s;
 *  - a resumed get of its last 10 % (the client holds the first 90 % as a
 *    partial download): time, and the bytes read from the remote (stock
 *    fetches the whole object into a temp file first);
 *  - many 4 KiB files put and got with -J8 — files/s;
 *  - the gateway's peak memory (process tree RSS) and peak temp-disk use
 *    (bytes under its .git/annex/tmp and .git/annex/othertmp).
 *
 * The S3 remotes live on s3rver in this process, reached through a
 * counting TCP relay (bench/special-probes.ts), so the bytes S3 sent are
 * counted on the wire; for a directory remote, the bytes the gateway's
 * process tree read (rchar) stand in for them.
 *
 * Usage: node dist/bench/special.js [--size SIZE] [--quick]
 *   --size 256M (or BENCH_SIZE, or a first positional SIZE; default 1G)
 * Env: BENCH_QUICK=1 (64M, 100 files), BENCH_FILES (small file count,
 * 1000), BENCH_JOBS (server --jobs, 8), BENCH_TIMEOUT (seconds per
 * command, 600), BENCH_SERVERS=annexgate,stock,
 * BENCH_REMOTES=dir,dirc,dire,dirce,s3,s3c,s3e (all by default).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { keyFile, parseKey } from "../src/keys/index.js";
import { gatewayRepo, keyOf } from "../test/helpers/cluster.js";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import {
  type RunningS3Server,
  S3RVER_ENV,
  s3RemoteFields,
  startS3Server,
} from "../test/helpers/s3-server.js";
import { annexHttpClone } from "../test/helpers/servers.js";
import {
  annexIn,
  benchMain,
  brief,
  type Cleanup,
  envInt,
  fillClient,
  firstArg,
  isQuick,
  MiB,
  parseSize,
  RssSampler,
  type ServerKind,
  serverKinds,
  startCleanly,
  timed,
  writeRandomFile,
} from "./common.js";
import {
  type CountingRelay,
  DiskPeakSampler,
  startCountingRelay,
  TreeReadCounter,
} from "./special-probes.js";
import {
  printSpecialReport,
  type RemoteResult,
  type RemoteRow,
  type ReportInputs,
} from "./special-report.js";

/**
 * The remotes measured, one line each (chunked and encrypted ones are
 * more lines with more `fields`).
 */
export const REMOTES: readonly RemoteRow[] = [
  { name: "dir", label: "directory", type: "directory", fields: ["encryption=none"] },
  {
    name: "dirc",
    label: "directory chunk=64MiB",
    type: "directory",
    fields: ["encryption=none", "chunk=64MiB"],
  },
  { name: "dire", label: "directory encrypted", type: "directory", fields: ["encryption=shared"] },
  {
    name: "dirce",
    label: "directory chunk+encrypted",
    type: "directory",
    fields: ["encryption=shared", "chunk=64MiB"],
  },
  { name: "s3", label: "S3", type: "S3", fields: ["encryption=none"] },
  { name: "s3c", label: "S3 chunk=64MiB", type: "S3", fields: ["encryption=none", "chunk=64MiB"] },
  { name: "s3e", label: "S3 encrypted", type: "S3", fields: ["encryption=shared"] },
];

/** What every server is measured on. */
interface Inputs extends ReportInputs {
  readonly top: string;
  readonly bigFile: string;
  readonly s3: RunningS3Server;
  readonly relay: CountingRelay;
}

/** The samplers watching one running gateway. */
interface Probes {
  readonly rss: RssSampler;
  readonly reads: TreeReadCounter;
  readonly temp: DiskPeakSampler;
  readonly relay: CountingRelay;
  /** The gateway's last stderr line, to say why a step failed. */
  readonly lastServerError: () => string;
}

/** `--size SIZE` or `--size=SIZE`, else BENCH_SIZE, else a positional SIZE. */
function sizeArg(quick: boolean): number {
  const argv = process.argv.slice(2);
  const i = argv.findIndex((a) => a === "--size" || a.startsWith("--size="));
  const flag = i < 0 ? undefined : (argv[i]?.split("=")[1] ?? argv[i + 1]);
  return parseSize(flag ?? process.env.BENCH_SIZE ?? firstArg() ?? (quick ? "64M" : "1G"));
}

function selectedRows(): RemoteRow[] {
  const only = process.env.BENCH_REMOTES?.split(",").map((s) => s.trim());
  const rows = REMOTES.filter((r) => only === undefined || only.includes(r.name));
  if (rows.length === 0) throw new Error(`BENCH_REMOTES names no remote: ${only?.join(",")}`);
  return rows;
}

/** Stock `initremote` of `row` in the gateway `gw`, marked to be proxied. */
async function addRemote(
  gw: string,
  dir: string,
  kind: ServerKind,
  row: RemoteRow,
  inputs: Inputs,
) {
  const fields: Record<string, string> = {};
  if (row.type === "directory") {
    const store = join(dir, `store-${row.name}`);
    await mkdir(store);
    fields.type = "directory";
    fields.directory = store;
  } else {
    // Through the relay, so the bytes S3 sends are counted.
    Object.assign(
      fields,
      s3RemoteFields({ ...inputs.s3, port: inputs.relay.port }, `bench-${kind}-${row.name}`),
    );
  }
  for (const f of row.fields) {
    const eq = f.indexOf("=");
    fields[f.slice(0, eq)] = f.slice(eq + 1);
  }
  const args = Object.entries(fields).map(([k, v]) => `${k}=${v}`);
  await run("git", ["annex", "initremote", "-q", row.name, ...args], { cwd: gw, env: S3RVER_ENV });
  await run("git", ["config", `remote.${row.name}.annex-proxy`, "true"], { cwd: gw });
}

/** The first `bytes` of `bigFile` as the client's partial download of `key`. */
async function writePartial(client: string, key: string, bigFile: string, bytes: number) {
  const dir = join(client, ".git", "annex", "tmp");
  await mkdir(dir, { recursive: true });
  await pipeline(
    createReadStream(bigFile, { start: 0, end: bytes - 1 }),
    createWriteStream(join(dir, keyFile(parseKey(key)))),
  );
}

/** The big file through `row`: put, get, resumed get of the last 10 %. */
async function bigFileSteps(
  client: string,
  row: RemoteRow,
  inputs: Inputs,
  probes: Probes,
  r: RemoteResult,
) {
  const annex = annexIn(client);
  const remote = `origin-${row.name}`;
  const size = inputs.bigSize / MiB;
  r.putMiBs = size / (await timed(() => annex("copy", "-q", "--to", remote, "big.bin")));
  // Set-up, not measured: the gateway's copy is what the client gets.
  await annex("drop", "-q", "--force", "big.bin");
  r.getMiBs = size / (await timed(() => annex("get", "-q", "--from", remote, "big.bin")));
  await annex("drop", "-q", "--force", "big.bin");
  const key = await keyOf(client, "big.bin");
  await writePartial(client, key, inputs.bigFile, Math.floor(inputs.bigSize * 0.9));
  await probes.reads.mark();
  const s3Before = probes.relay.bytesFromTarget();
  r.resumeSeconds = await timed(() => annex("get", "-q", "--from", remote, "big.bin"));
  const gatewayRead = await probes.reads.mark();
  r.resumeRemoteBytes = row.type === "S3" ? probes.relay.bytesFromTarget() - s3Before : gatewayRead;
}

/** The small files through `row`: put with -J8, then got back with -J8. */
async function smallFileSteps(client: string, row: RemoteRow, inputs: Inputs, r: RemoteResult) {
  const annex = annexIn(client);
  const remote = `origin-${row.name}`;
  const put = await timed(() => annex("copy", "-q", "-J8", "--to", remote, "small"));
  r.putFilesPerS = inputs.nSmall / put;
  await annex("drop", "-q", "-J8", "--force", "small");
  const get = await timed(() => annex("get", "-q", "-J8", "--from", remote, "small"));
  r.getFilesPerS = inputs.nSmall / get;
  const here = (await annex("find", "small")).split("\n").filter((l) => l !== "");
  if (here.length !== inputs.nSmall) r.errors.push(`got back ${here.length} of ${inputs.nSmall}`);
}

async function benchRemote(client: string, row: RemoteRow, inputs: Inputs, probes: Probes) {
  const r: RemoteResult = { errors: [] };
  // Start this remote's phase of the peaks.
  await probes.rss.mark();
  await probes.temp.mark();
  try {
    await bigFileSteps(client, row, inputs, probes, r);
  } catch (e) {
    r.errors.push(`big file: ${brief(e)}${probes.lastServerError()}`);
  }
  try {
    await smallFileSteps(client, row, inputs, r);
  } catch (e) {
    r.errors.push(`small files: ${brief(e)}${probes.lastServerError()}`);
  }
  r.peakRssMiB = (await probes.rss.mark()).tree / 1024;
  r.peakTempBytes = await probes.temp.mark();
  return r;
}

/** One gateway with every remote, served by `kind`, one client; each remote in turn. */
async function benchServer(
  cleanup: Cleanup,
  kind: ServerKind,
  inputs: Inputs,
): Promise<Map<string, RemoteResult>> {
  const dir = join(inputs.top, kind);
  await mkdir(dir);
  cleanup.add(() => removeDir(dir));
  const gw = await gatewayRepo(join(dir, "gw"), "gateway");
  await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: gw });
  for (const row of inputs.rows) await addRemote(gw, dir, kind, row, inputs);
  await run("git", ["annex", "updateproxy"], { cwd: gw });
  const server = await startCleanly(cleanup, kind, gw, inputs.jobs);
  const pid = server.child.pid as number;
  const annexDir = join(gw, ".git", "annex");
  const probes: Probes = {
    rss: new RssSampler(pid),
    reads: new TreeReadCounter(pid),
    temp: new DiskPeakSampler([join(annexDir, "tmp"), join(annexDir, "othertmp")]),
    relay: inputs.relay,
    lastServerError: () => {
      const lines = server.stderr().trim().split("\n");
      const last = lines[lines.length - 1] ?? "";
      return last === "" ? "" : ` (gateway said: ${last.slice(0, 300)})`;
    },
  };
  for (const p of [probes.rss, probes.reads, probes.temp]) await p.start();
  const results = new Map<string, RemoteResult>();
  try {
    const client = await annexHttpClone(gw, join(dir, "client"), server.port);
    await fillClient(client, inputs.bigFile, inputs.nSmall);
    for (const row of inputs.rows)
      results.set(row.name, await benchRemote(client, row, inputs, probes));
    return results;
  } finally {
    await probes.rss.stop();
    probes.reads.stop();
    probes.temp.stop();
    await server.stop();
    await removeDir(dir);
  }
}

benchMain("special", async (cleanup) => {
  const quick = isQuick();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const top = await makeTempDir("annexgate-bench-special-");
  cleanup.add(() => removeDir(top));
  const s3 = await startS3Server();
  cleanup.add(() => s3.close());
  const relay = await startCountingRelay(s3.port);
  cleanup.add(() => relay.close());
  const inputs: Inputs = {
    top,
    bigFile: join(top, "big.bin"),
    bigSize: sizeArg(quick),
    nSmall: envInt("BENCH_FILES", quick ? 100 : 1000),
    jobs: envInt("BENCH_JOBS", 8),
    rows: selectedRows(),
    s3,
    relay,
  };
  await writeRandomFile(inputs.bigFile, inputs.bigSize);
  const results = new Map<ServerKind, Map<string, RemoteResult>>();
  for (const kind of serverKinds()) results.set(kind, await benchServer(cleanup, kind, inputs));
  printSpecialReport(inputs, results);
});
