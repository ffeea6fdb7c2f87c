/**
 * The load of the checkpresent benches: `concurrency` keep-alive
 * connections asking back to back, every answer checked, latencies kept.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { run } from "../test/helpers/index.js";
import { makeServerRepo, repoUuid } from "./common.js";

export interface Level {
  concurrency: number;
  requests: number;
  errors: number;
  /** What the first failed request got. */
  firstError?: string;
  seconds: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  /** Server CPU time (user + system, whole process tree) per request, µs. */
  cpuUsPerRequest?: number;
}

export interface Probe {
  path: string;
  present: boolean;
}

/** Null when the answer is right, else what was wrong. */
function checkOnce(
  agent: Agent,
  port: number,
  probe: Probe,
  timeoutMs: number,
): Promise<string | null> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: probe.path,
        agent,
        headers: { "Content-Length": "0" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) return resolve(`status ${res.statusCode}: ${body}`);
          try {
            const present = (JSON.parse(body) as { present?: unknown }).present;
            resolve(present === probe.present ? null : `wrong answer: ${body}`);
          } catch {
            resolve(`not JSON: ${body}`);
          }
        });
        res.on("error", (e) => resolve(`response: ${e.message}`));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(`request: ${e.message}`));
    req.end();
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** `concurrency` loops of back-to-back requests until the time or the count runs out. */
export async function runLevel(
  port: number,
  probes: readonly Probe[],
  concurrency: number,
  durationMs: number,
  maxRequests: number,
  /** How long one request may take (a server under valgrind needs far more). */
  timeoutMs = 30_000,
): Promise<Level> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(maxRequests);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = process.hrtime.bigint();
  const end = Date.now() + durationMs;
  const worker = async () => {
    while (issued < maxRequests && Date.now() < end) {
      const probe = probes[issued % probes.length] as Probe;
      issued++;
      const s = process.hrtime.bigint();
      const failed = await checkOnce(agent, port, probe, timeoutMs);
      const ms = Number(process.hrtime.bigint() - s) / 1e6;
      latencies[done++] = ms;
      if (failed !== null) {
        errors++;
        firstError ??= failed;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const sorted = latencies.subarray(0, done).sort();
  return {
    concurrency,
    requests: done,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds,
    rps: done / seconds,
    p50ms: percentile(sorted, 50),
    p99ms: percentile(sorted, 99),
  };
}

/**
 * A fresh repository in `dir` with `n` annexed 1 KiB files; the probes
 * ask for each of them and for as many absent keys.
 */
export async function checkpresentRepo(
  dir: string,
  n: number,
): Promise<{ repo: string; probes: Probe[] }> {
  const repo = await makeServerRepo(dir);
  await mkdir(join(repo, "data"));
  for (let i = 0; i < n; i++) await writeFile(join(repo, "data", `f${i}.dat`), randomBytes(1024));
  await run("git", ["annex", "add", "-q", "data"], { cwd: repo });
  await run("git", ["commit", "-q", "-m", "data"], { cwd: repo });
  const keys = (await run("git", ["annex", "find", "--json"], { cwd: repo }))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => (JSON.parse(l) as { key: string }).key);
  if (keys.length !== n) throw new Error(`expected ${n} keys, found ${keys.length}`);
  const uuid = await repoUuid(repo);
  const client = randomUUID();
  const path = (key: string) =>
    `/git-annex/${uuid}/v4/checkpresent?key=${encodeURIComponent(key)}&clientuuid=${client}`;
  const probes = keys.flatMap((k, i) => {
    const absent = `SHA256E-s1024--${createHash("sha256").update(`absent ${i}`).digest("hex")}.dat`;
    return [
      { path: path(k), present: true },
      { path: path(absent), present: false },
    ];
  });
  return { repo, probes };
}
