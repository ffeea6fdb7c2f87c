/**
 * Server memory under concurrent transfers, annexgate against stock
 * `git annex p2phttp`: N clients (16) at once put a file each through
 * /v4/put with a streamed body, then at once get them back through
 * /v4/key. The server's RSS is sampled every 100 ms from /proc (the server
 * process alone, and summed over its process tree: stock is `git` running
 * `git-annex`, which runs `git cat-file` and friends). The same is done
 * with a smaller file size to show whether memory stays flat as files grow.
 *
 * Clients are plain HTTP requests from this process (no git clones), so the
 * client side stays cheap; each body is generated on the fly and its
 * SHA256E key computed beforehand. annexgate's own metrics are scraped
 * beside it, and what its highest-RSS sample was made of is printed.
 *
 * Usage: node dist/bench/memory.js
 * Env: BENCH_QUICK=1 (16M,2M), BENCH_MEM_SIZES (256M,32M), BENCH_CLIENTS (16),
 * BENCH_JOBS (server --jobs; the client count), BENCH_TIMEOUT (seconds a
 * transfer may sit idle before it counts as hung, 120),
 * BENCH_SERVERS=annexgate,stock.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { makeTempDir, removeDir } from "../test/helpers/index.js";
import { freePort } from "../test/helpers/servers.js";
import {
  benchMain,
  type Cleanup,
  envInt,
  fixed,
  formatSize,
  isQuick,
  MiB,
  makeServerRepo,
  parseSize,
  printTable,
  RssSampler,
  ratio,
  repoUuid,
  type ServerKind,
  serverKinds,
  startCleanly,
  timed,
} from "./common.js";
import { BreakdownSampler, describeBreakdown, type MemoryBreakdown } from "./memory-breakdown.js";

/** The random block every generated body is made of, varied per client and chunk. */
const BLOCK = randomBytes(MiB);

/** Client `client`'s body of `size` bytes, 1 MiB at a time. */
function* body(client: number, size: number): Generator<Buffer> {
  const chunks = Math.ceil(size / MiB);
  for (let j = 0; j < chunks; j++) {
    const chunk = Buffer.from(BLOCK.subarray(0, Math.min(MiB, size - j * MiB)));
    // Each chunk of each client differs, so no two keys or chunks are equal.
    if (chunk.length >= 8) {
      chunk.writeUInt32LE(client, 0);
      chunk.writeUInt32LE(j, 4);
    }
    yield chunk;
  }
}

function keyFor(client: number, size: number): string {
  const h = createHash("sha256");
  for (const chunk of body(client, size)) h.update(chunk);
  return `SHA256E-s${size}--${h.digest("hex")}.bin`;
}

interface Target {
  port: number;
  uuid: string;
  clientUuid: string;
  timeoutMs: number;
}

function readAll(res: IncomingMessage): Promise<{ text: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    let text = "";
    let bytes = 0;
    res.on("data", (d: Buffer) => {
      bytes += d.length;
      if (text.length < 4096) text += d.toString("utf8");
    });
    res.on("end", () => resolve({ text, bytes }));
    res.on("error", reject);
  });
}

async function put(t: Target, client: number, size: number, key: string): Promise<void> {
  const req = request({
    host: "127.0.0.1",
    port: t.port,
    method: "POST",
    path: `/git-annex/${t.uuid}/v4/put?key=${encodeURIComponent(key)}&clientuuid=${t.clientUuid}`,
    agent: false,
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(size),
      "X-git-annex-data-length": String(size),
    },
  });
  req.setTimeout(t.timeoutMs, () => req.destroy(new Error("put timed out")));
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  response.catch(() => undefined); // awaited below; the pipeline reports the same error first
  await pipeline(Readable.from(body(client, size)), req);
  const res = await response;
  const { text } = await readAll(res);
  if (res.statusCode !== 200 || !/"stored":\s*true/.test(text)) {
    throw new Error(`put ${key}: ${res.statusCode} ${text.slice(0, 200)}`);
  }
}

async function get(t: Target, size: number, key: string): Promise<void> {
  const req = request({
    host: "127.0.0.1",
    port: t.port,
    method: "GET",
    path: `/git-annex/${t.uuid}/v4/key/${encodeURIComponent(key)}?clientuuid=${t.clientUuid}`,
    agent: false,
  });
  req.setTimeout(t.timeoutMs, () => req.destroy(new Error("get timed out")));
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
    req.end();
  });
  const { bytes } = await readAll(res);
  if (res.statusCode !== 200 || bytes !== size) {
    throw new Error(`get ${key}: ${res.statusCode}, ${bytes} of ${size} bytes`);
  }
}

interface MemResult {
  idleKiB: number;
  putPeakKiB: number;
  getPeakKiB: number;
  peakKiB: number;
  peakLargestKiB: number;
  samples: number;
  /** annexgate's own account of its memory at its highest RSS. */
  breakdown?: MemoryBreakdown;
  putMiBs?: number;
  getMiBs?: number;
  errors: string[];
}

/** Runs every transfer to its end; throws a summary when any failed. */
async function allTransfers(what: string, transfers: Promise<void>[]): Promise<void> {
  const settled = await Promise.allSettled(transfers);
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0) {
    const first = String((failed[0]?.reason as Error)?.message ?? failed[0]?.reason);
    throw new Error(`${what}: ${failed.length} of ${settled.length} failed, first: ${first}`);
  }
}

async function measure(
  cleanup: Cleanup,
  kind: ServerKind,
  top: string,
  size: number,
  keys: readonly string[],
  jobs: number,
  timeoutMs: number,
): Promise<MemResult> {
  const dir = join(top, `${kind}-${size}`);
  cleanup.add(() => removeDir(dir));
  const repo = await makeServerRepo(dir);
  const metricsPort = await freePort();
  const server = await startCleanly(cleanup, kind, repo, jobs, [
    "--metrics-port",
    String(metricsPort),
  ]);
  // Every half second: a scrape is work in the process being measured.
  const breakdown = kind === "annexgate" ? new BreakdownSampler(metricsPort, 500) : undefined;
  try {
    const pid = server.child.pid;
    if (pid === undefined) throw new Error(`${kind} server has no pid`);
    const t: Target = {
      port: server.port,
      uuid: await repoUuid(repo),
      clientUuid: randomUUID(),
      timeoutMs,
    };
    const sampler = new RssSampler(pid, 100);
    await sampler.start();
    breakdown?.start();
    const total = (keys.length * size) / MiB;
    const errors: string[] = [];
    let putMiBs: number | undefined;
    let getMiBs: number | undefined;
    try {
      const idle = await sampler.mark();
      try {
        const s = await timed(() =>
          allTransfers(
            "put",
            keys.map((k, i) => put(t, i, size, k)),
          ),
        );
        putMiBs = total / s;
      } catch (e) {
        errors.push(String((e as Error).message));
      }
      const putPeak = await sampler.mark();
      if (errors.length === 0) {
        try {
          const s = await timed(() =>
            allTransfers(
              "get",
              keys.map((k) => get(t, size, k)),
            ),
          );
          getMiBs = total / s;
        } catch (e) {
          errors.push(String((e as Error).message));
        }
      }
      const getPeak = await sampler.mark();
      const all = await sampler.stop();
      const parts = breakdown?.stop();
      return {
        idleKiB: idle.tree,
        putPeakKiB: putPeak.tree,
        getPeakKiB: getPeak.tree,
        peakKiB: all.tree,
        peakLargestKiB: all.largest,
        samples: all.samples,
        ...(parts?.peak !== undefined ? { breakdown: parts.peak } : {}),
        ...(putMiBs !== undefined ? { putMiBs } : {}),
        ...(getMiBs !== undefined ? { getMiBs } : {}),
        errors,
      };
    } finally {
      await sampler.stop();
      breakdown?.stop();
    }
  } finally {
    await server.stop();
    await removeDir(dir);
  }
}

const mib = (kib: number | undefined) => (kib === undefined ? undefined : kib / 1024);

benchMain("memory", async (cleanup) => {
  const quick = isQuick();
  const sizes = (process.env.BENCH_MEM_SIZES ?? (quick ? "16M,2M" : "256M,32M"))
    .split(",")
    .map((s) => parseSize(s));
  const clients = envInt("BENCH_CLIENTS", 16);
  const jobs = envInt("BENCH_JOBS", clients);
  const timeoutMs = envInt("BENCH_TIMEOUT", 120) * 1000;
  const kinds = serverKinds();

  const top = await makeTempDir("annexgate-bench-memory-");
  cleanup.add(() => removeDir(top));

  const results = new Map<string, MemResult>();
  for (const size of sizes) {
    const keys = Array.from({ length: clients }, (_, i) => keyFor(i, size));
    for (const kind of kinds) {
      results.set(
        `${kind} ${size}`,
        await measure(cleanup, kind, top, size, keys, jobs, timeoutMs),
      );
    }
  }

  console.log(
    `\n== memory: ${clients} clients at once put then get one file each (direct HTTP, ` +
      `streamed), server --jobs ${jobs}, RSS sampled every 100 ms ==`,
  );
  const rows: string[][] = [];
  for (const size of sizes) {
    for (const kind of kinds) {
      const r = results.get(`${kind} ${size}`);
      rows.push([
        formatSize(size),
        kind,
        fixed(mib(r?.idleKiB)),
        fixed(mib(r?.putPeakKiB)),
        fixed(mib(r?.getPeakKiB)),
        fixed(mib(r?.peakKiB)),
        fixed(mib(r?.peakLargestKiB)),
        fixed(r?.putMiBs),
        fixed(r?.getMiBs),
        String(r?.samples ?? "-"),
      ]);
    }
  }
  printTable(
    [
      "file size",
      "server",
      "idle MiB",
      "put peak MiB",
      "get peak MiB",
      "peak MiB",
      "largest proc peak MiB",
      "put MiB/s",
      "get MiB/s",
      "samples",
    ],
    rows,
  );
  console.log(
    "(MiB columns: RSS summed over the server's process tree; " +
      "'largest proc' is the biggest single process in it)",
  );
  for (const size of sizes) {
    const a = results.get(`annexgate ${size}`);
    const s = results.get(`stock ${size}`);
    console.log(
      `${formatSize(size)}: peak RSS annexgate/stock ${ratio(a?.peakKiB, s?.peakKiB)}, ` +
        `above idle ${ratio(
          a && a.peakKiB - a.idleKiB,
          s && s.peakKiB - s.idleKiB,
        )}; put MiB/s ${ratio(a?.putMiBs, s?.putMiBs)}, get MiB/s ${ratio(a?.getMiBs, s?.getMiBs)}`,
    );
  }
  for (const size of sizes) {
    const b = results.get(`annexgate ${size}`)?.breakdown;
    if (b !== undefined)
      console.log(`annexgate at ${formatSize(size)}, its peak: ${describeBreakdown(b)}`);
  }
  for (const [name, r] of results) {
    for (const e of r.errors)
      console.log(`${name.split(" ")[0]} at ${formatSize(Number(name.split(" ")[1]))} FAILED ${e}`);
  }
  const big = sizes[0];
  const small = sizes[sizes.length - 1];
  if (big !== undefined && small !== undefined && big !== small) {
    for (const kind of kinds) {
      const b = results.get(`${kind} ${big}`);
      const sm = results.get(`${kind} ${small}`);
      console.log(
        `${kind}: peak at ${formatSize(big)} / peak at ${formatSize(small)} = ` +
          `${ratio(b?.peakKiB, sm?.peakKiB)} for ${fixed(big / small, 0)}x larger files ` +
          "(about 1x means memory is flat in file size)",
      );
    }
  }
});
