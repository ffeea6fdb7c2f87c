/**
 * What sharing live sizes between processes costs an upload: one
 * reserve + commit (the store ended well, stamped for the others) per
 * operation, in process only (a node without maxsize, which never touches
 * a file), shared while alone, and shared with other processes holding
 * reservations (each is asked whether it is alive, by its fcntl lock).
 *
 * Usage: node dist/bench/live-sizes.js [--quick]
 * Env: BENCH_QUICK=1 (0.5 s each), BENCH_DURATION (seconds each, 3),
 * BENCH_MAX_OPS (per measurement, 1000000), BENCH_OTHERS (4).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { FcntlLocks } from "../src/locks/index.js";
import { LiveSizes, SharedLiveSizes } from "../src/policy/index.js";
import { makeTempDir, removeDir } from "../test/helpers/index.js";
import { benchMain, envInt, fixed, isQuick, printTable } from "./common.js";

const NODE = "00000000-0000-4000-8000-00000000000b";
const RACER = resolve(import.meta.dirname, "..", "src", "policy", "live-sizes-racer.js");

async function measure(
  live: LiveSizes,
  max: ReadonlyMap<string, bigint>,
  seconds: number,
  maxOps: number,
) {
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let ops = 0;
  while (ops < maxOps && performance.now() < until) {
    const [r] = await live.reserveAll([NODE], 1n, "KEY");
    if (!r) throw new Error("no room");
    r.commit();
    if (live instanceof SharedLiveSizes) await live.idle();
    ops++;
    // Sizes are read again now and then, as the gateway does when its
    // branch moves: ended stores are then in them and stop being kept.
    if (ops % 100 === 0) await live.refreshWith(async () => new Map([[NODE, BigInt(ops)]]), max);
  }
  return { ops, seconds: (performance.now() - t0) / 1000 };
}

/** A racer process holding one reservation in `dir` until it is killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [RACER, dir, NODE, String(10n ** 18n)]);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => String((await lines.next()).value);
  if ((await next()) !== "ready") throw new Error("racer did not start");
  child.stdin.write("refresh 0\nreserve 1\n");
  await next();
  if ((await next()) !== "reserved") throw new Error("racer could not reserve");
  return child;
}

benchMain("live-sizes", async (cleanup) => {
  const seconds = isQuick() ? 0.5 : envInt("BENCH_DURATION", 3);
  const maxOps = envInt("BENCH_MAX_OPS", 1_000_000);
  const dir = await makeTempDir("annexgate-bench-live-");
  cleanup.add(() => removeDir(dir));
  const locks = new FcntlLocks();
  cleanup.add(async () => locks.close());
  const max = new Map([[NODE, 10n ** 18n]]);

  const rows: [string, { ops: number; seconds: number }][] = [];
  const inProcess = new LiveSizes();
  await inProcess.refreshWith(async () => new Map(), new Map());
  rows.push(["in process (no maxsize)", await measure(inProcess, new Map(), seconds, maxOps)]);

  const shared = new SharedLiveSizes({ dir: join(dir, "live"), locks });
  cleanup.add(() => shared.close());
  await shared.refreshWith(async () => new Map(), max);
  rows.push(["shared (maxsize), alone", await measure(shared, max, seconds, maxOps)]);

  const others = envInt("BENCH_OTHERS", 4);
  for (let i = 0; i < others; i++) {
    const child = await holder(join(dir, "live"));
    cleanup.add(async () => {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    });
  }
  rows.push([
    `shared, ${others} other processes holding room`,
    await measure(shared, max, seconds, maxOps),
  ]);

  console.log(`live sizes: reserve + commit per upload, ${seconds} s each`);
  printTable(
    ["what", "ops", "ops/s", "µs/op"],
    rows.map(([what, m]) => [
      what,
      String(m.ops),
      fixed(m.ops / m.seconds, 0),
      fixed((m.seconds * 1e6) / Math.max(1, m.ops), 1),
    ]),
  );
});
