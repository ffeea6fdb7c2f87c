/**
 * A soak: honest stock clients loop put/get/drop through a cluster gateway
 * while hostile raw-socket clients attack it the whole time, annexgate
 * against stock `git annex p2phttp` on the same work. The honest operations
 * must all succeed; the server's memory and open file descriptors must stay
 * flat; no temp file may be left beyond what resumable uploads need.
 *
 * Attacks, each bounded in time (a hostile client gives up after
 * ATTACK_HOLD_MS at the latest): headers sent a byte at a time and then
 * stalled; an upload cut off (reset) mid-body; a download never read;
 * `keeplocked` with a made-up lock id, held open; garbage bytes.
 *
 * Usage: node dist/bench/soak.js [--seconds N]   (default 600 per server)
 * Env: BENCH_QUICK=1 (60 s), BENCH_SOAK_SECONDS, BENCH_HONEST (2),
 * BENCH_HOSTILE (8), BENCH_SERVERS=annexgate,stock.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { keyOf, localCluster } from "../test/helpers/cluster.js";
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
  fixed,
  isQuick,
  median,
  printTable,
  type ServerKind,
  serverKinds,
  treeRssKiB,
} from "./common.js";

const NODES = ["node1", "node2"];
const ATTACK_HOLD_MS = 20_000;
const SAMPLE_MS = 1_000;
/** annexgate's --tmp-max-size in the soak. */
const TMP_CAP = "16MiB";

interface Sample {
  readonly rssMiB: number;
  readonly fds: number;
}

interface SoakResult {
  honestOk: number;
  honestFailed: number;
  attacks: number;
  samples: Sample[];
  tmpFiles: number;
  tmpBytes: number;
  tmpMostInOne: number;
  errors: string[];
}

/** The server's RSS (its whole process tree: stock is `git` running `git-annex`) and its open fds. */
async function sampleOf(pid: number): Promise<Sample | null> {
  try {
    const rss = (await treeRssKiB(pid)).tree;
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    return { rssMiB: rss / 1024, fds };
  } catch {
    return null;
  }
}

/**
 * Files and bytes under the repositories' `.git/annex/tmp`, and the most
 * bytes any one of them holds (the temp-file cap is per repository).
 */
async function tmpLeft(
  repos: readonly string[],
): Promise<{ files: number; bytes: number; mostInOne: number }> {
  let files = 0;
  let bytes = 0;
  let mostInOne = 0;
  for (const repo of repos) {
    const before = bytes;
    const dir = join(repo, ".git", "annex", "tmp");
    for (const name of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
      const s = await stat(join(dir, name)).catch(() => null);
      if (s?.isFile()) {
        files++;
        bytes += s.size;
      }
    }
    mostInOne = Math.max(mostInOne, bytes - before);
  }
  return { files, bytes, mostInOne };
}

/** One honest round in `client`: a new file to the cluster, dropped here, got back, dropped there. */
async function honestRound(client: string, worker: number, round: number): Promise<void> {
  const annex = annexIn(client);
  const name = `w${worker}-r${round}.dat`;
  await writeFile(join(client, name), randomBytes(64 * 1024 + round));
  await annex("add", "-q", name);
  await annex("copy", "-q", "--to", "origin-mycluster", name);
  await annex("drop", "-q", name);
  await annex("get", "-q", "--from", "origin-mycluster", name);
  await annex("drop", "-q", "--from", "origin-mycluster", name);
}

/** Opens a socket to the server; resolves once connected (or with the error). */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Waits until the socket closes or `ms` pass, then destroys it (reset when `rst`). */
function holdThenCut(s: Socket, ms: number, rst: boolean): Promise<void> {
  return new Promise((resolve) => {
    const cut = () => {
      if (rst && !s.destroyed) s.resetAndDestroy();
      else s.destroy();
      resolve();
    };
    const timer = setTimeout(cut, ms);
    s.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    s.on("error", () => undefined);
  });
}

interface Target {
  readonly port: number;
  readonly cluster: string;
  readonly key: string;
  readonly client: string;
}

/** One attack, picked by `n`. */
async function attack(t: Target, n: number): Promise<void> {
  const s = await open(t.port);
  const base = `/git-annex/${t.cluster}/v4`;
  const cu = `clientuuid=${randomUUID()}`;
  const hold = 2_000 + (n % 7) * 2_000;
  switch (n % 5) {
    case 0: {
      // Headers dribbled, then silence.
      const head = `POST ${base}/checkpresent?key=${t.key}&${cu} HTTP/1.1\r\nHost: x\r\n`;
      for (const ch of head.slice(0, 20)) s.write(ch);
      return holdThenCut(s, Math.min(hold, ATTACK_HOLD_MS), false);
    }
    case 1: {
      // An upload cut off mid-body, by a reset.
      const size = 4 * 1024 * 1024;
      const key = `SHA256E-s${size}--${randomBytes(32).toString("hex")}`;
      s.write(
        `POST ${base}/put?key=${key}&${cu} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n` +
          `X-git-annex-data-length: ${size}\r\n\r\n`,
      );
      s.write(randomBytes(256 * 1024));
      return holdThenCut(s, 200 + (n % 3) * 500, true);
    }
    case 2: {
      // A download never read.
      s.pause();
      s.write(`GET ${base}/key/${t.key}?${cu} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return holdThenCut(s, Math.min(hold, ATTACK_HOLD_MS), n % 2 === 0);
    }
    case 3: {
      // keeplocked with a lock id nobody was given, held open.
      s.write(
        `POST ${base}/keeplocked?key=${t.key}&${cu}&lockid=${randomUUID()} HTTP/1.1\r\n` +
          "Host: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      return holdThenCut(s, Math.min(hold, ATTACK_HOLD_MS), false);
    }
    default: {
      s.write(randomBytes(512));
      return holdThenCut(s, Math.min(hold, ATTACK_HOLD_MS), true);
    }
  }
}

async function soakServer(
  cleanup: Cleanup,
  kind: ServerKind,
  top: string,
  seconds: number,
  honest: number,
  hostile: number,
): Promise<SoakResult> {
  const dir = join(top, kind);
  await mkdir(dir);
  cleanup.add(() => removeDir(dir));
  const { gw, cluster } = await localCluster(dir, NODES, "stock");
  const args = ["--wideopen", "--jobs", "8"];
  // annexgate keeps abandoned uploads for resume up to a cap (stock has no
  // such setting): the cap is what "no temp files beyond the bounds" means.
  const server: RunningP2pHttp =
    kind === "annexgate"
      ? await startAnnexgate(gw, [...args, "--tmp-max-size", TMP_CAP])
      : await startStockP2pHttp(gw, args);
  cleanup.add(() => server.stop());
  const pid = server.child.pid as number;
  const r: SoakResult = {
    honestOk: 0,
    honestFailed: 0,
    attacks: 0,
    samples: [],
    tmpFiles: 0,
    tmpBytes: 0,
    tmpMostInOne: 0,
    errors: [],
  };
  try {
    const clients: string[] = [];
    for (let w = 0; w < honest; w++) {
      clients.push(await annexHttpClone(gw, join(dir, `client${w}`), server.port, `client${w}`));
    }
    // A key the attackers ask for: on the cluster for the whole run.
    const first = clients[0] as string;
    await writeFile(join(first, "target.dat"), randomBytes(1024 * 1024));
    await annexIn(first)("add", "-q", "target.dat");
    await annexIn(first)("copy", "-q", "--to", "origin-mycluster", "target.dat");
    const target: Target = {
      port: server.port,
      cluster,
      key: await keyOf(first, "target.dat"),
      client: first,
    };

    const until = Date.now() + seconds * 1000;
    const sampler = setInterval(() => {
      void sampleOf(pid).then((s) => s && r.samples.push(s));
    }, SAMPLE_MS);
    const firstSample = await sampleOf(pid);
    if (firstSample) r.samples.push(firstSample);
    const honestLoops = clients.map(async (client, w) => {
      for (let round = 0; round < 100_000 && Date.now() < until; round++) {
        try {
          await honestRound(client, w, round);
          r.honestOk++;
        } catch (e) {
          r.honestFailed++;
          if (r.errors.length < 5) r.errors.push(`honest: ${brief(e)}`);
        }
      }
    });
    const hostileLoops = Array.from({ length: hostile }, async (_, h) => {
      for (let i = 0; i < 1_000_000 && Date.now() < until; i++) {
        await attack(target, h * 7 + i).catch(() => undefined);
        r.attacks++;
      }
    });
    await Promise.all([...honestLoops, ...hostileLoops]);
    clearInterval(sampler);
    const last = await sampleOf(pid);
    if (last) r.samples.push(last);
    const left = await tmpLeft([gw, ...NODES.map((n) => join(dir, n))]);
    r.tmpFiles = left.files;
    r.tmpBytes = left.bytes;
    r.tmpMostInOne = left.mostInOne;
    return r;
  } finally {
    await server.stop();
    await removeDir(dir);
  }
}

function secondsArg(): number | undefined {
  const i = process.argv.indexOf("--seconds");
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

benchMain("soak", async (cleanup) => {
  const seconds = secondsArg() ?? envInt("BENCH_SOAK_SECONDS", isQuick() ? 60 : 600);
  const honest = envInt("BENCH_HONEST", 2);
  const hostile = envInt("BENCH_HOSTILE", 8);
  const top = await makeTempDir("annexgate-bench-soak-");
  cleanup.add(() => removeDir(top));
  const results = new Map<ServerKind, SoakResult>();
  for (const kind of serverKinds()) {
    results.set(kind, await soakServer(cleanup, kind, top, seconds, honest, hostile));
  }
  console.log(
    `\n== soak: ${seconds} s per server, ${honest} honest stock clients looping put/get/drop ` +
      `through a ${NODES.length}-node cluster, ${hostile} hostile raw-socket clients ==`,
  );
  const cell = (kind: ServerKind, f: (r: SoakResult) => string) => {
    const r = results.get(kind);
    return r === undefined ? "-" : f(r);
  };
  const trio = (xs: number[]) =>
    xs.length === 0
      ? "-"
      : `${fixed(xs[0])} / ${fixed(Math.max(...xs))} / ${fixed(xs[xs.length - 1])}`;
  const quarters = (xs: number[]) =>
    xs.length < 4
      ? "-"
      : [0, 1, 2, 3]
          .map((q) => fixed(median(xs.slice((q * xs.length) >> 2, ((q + 1) * xs.length) >> 2))))
          .join(" / ");
  const row = (name: string, f: (r: SoakResult) => string) => [
    name,
    cell("annexgate", f),
    cell("stock", f),
  ];
  printTable(
    ["measure", "annexgate", "stock"],
    [
      row("honest rounds ok", (r) => String(r.honestOk)),
      row("honest rounds failed", (r) => String(r.honestFailed)),
      row("attacks made", (r) => String(r.attacks)),
      row("server RSS MiB (process tree) first/max/last", (r) =>
        trio(r.samples.map((s) => s.rssMiB)),
      ),
      // Flat means no trend once warmed up: the medians of the later
      // quarters of the run stay level (the first holds the warm-up).
      row("server RSS MiB median per quarter of the run", (r) =>
        quarters(r.samples.map((s) => s.rssMiB)),
      ),
      row("server open fds first/max/last", (r) => trio(r.samples.map((s) => s.fds))),
      row("server open fds median per quarter of the run", (r) =>
        quarters(r.samples.map((s) => s.fds)),
      ),
      row("temp files left (files, KiB)", (r) => `${r.tmpFiles}, ${fixed(r.tmpBytes / 1024)}`),
      row("most temp KiB in one repository", (r) => fixed(r.tmpMostInOne / 1024)),
      ["temp-file cap per repository", TMP_CAP, "none"],
    ],
  );
  for (const [kind, r] of results) for (const e of r.errors) console.log(`${kind} error: ${e}`);
  const a = results.get("annexgate");
  if (a !== undefined && (a.honestFailed > 0 || a.honestOk === 0)) process.exitCode = 1;
});
