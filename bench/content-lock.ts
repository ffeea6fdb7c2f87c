/**
 * What content locks cost: lock+unlock per second and per-operation
 * latency with annexgate's in-process locks alone (no helper), with a bare
 * fcntl lock through the perl helper, with the whole git-annex-compatible
 * shared lock (`.lck`, retention timestamp, release by shared-to-exclusive
 * conversion), and for a removal's exclusive lock; plus how long the helper
 * takes to start. Content locks are taken only for LOCKCONTENT/lockcontent
 * and REMOVE, never for a store or retrieve.
 *
 * Usage: node dist/bench/content-lock.js [--quick]
 * Env: BENCH_QUICK=1 (0.5 s each), BENCH_DURATION (seconds each, 3),
 * BENCH_MAX_OPS (per measurement, 1000000).
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FcntlLocks } from "../src/locks/index.js";
import { AnnexContentLockFiles, ContentLocks } from "../src/objects/index.js";
import { makeTempDir, removeDir } from "../test/helpers/index.js";
import { benchMain, envInt, fixed, isQuick, printTable } from "./common.js";

interface Measured {
  readonly ops: number;
  readonly seconds: number;
}

/** Repeat `op` until the time or the count runs out. */
async function measure(
  op: () => Promise<void> | void,
  seconds: number,
  maxOps: number,
): Promise<Measured> {
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let ops = 0;
  while (ops < maxOps && performance.now() < until) {
    await op();
    ops++;
  }
  return { ops, seconds: (performance.now() - t0) / 1000 };
}

benchMain("content-lock", async (cleanup) => {
  const seconds = isQuick() ? 0.5 : envInt("BENCH_DURATION", 3);
  const maxOps = envInt("BENCH_MAX_OPS", 1_000_000);
  const dir = await makeTempDir("annexgate-bench-lock-");
  cleanup.add(() => removeDir(dir));
  const keyDir = join(dir, "objects", "Xx", "Yy", "KEY");
  await mkdir(keyDir, { recursive: true });
  const object = join(keyDir, "KEY");
  await writeFile(object, "content");
  await chmod(keyDir, 0o555);

  const fcntl = new FcntlLocks();
  cleanup.add(async () => fcntl.close());
  const t0 = performance.now();
  const first = await fcntl.tryLock(join(dir, "start.lck"), "shared");
  const startMs = performance.now() - t0;
  await first?.release();

  const inProcess = new ContentLocks();
  const files = new AnnexContentLockFiles(fcntl);
  const rows: [string, Measured][] = [];
  rows.push([
    "in-process only (no helper)",
    await measure(() => inProcess.lock("KEY")?.release(), seconds, maxOps),
  ]);
  rows.push([
    "fcntl shared lock via helper",
    await measure(
      async () => {
        await (await fcntl.tryLock(`${object}.lck`, "shared"))?.release();
      },
      seconds,
      maxOps,
    ),
  ]);
  rows.push([
    "git-annex content lock (shared)",
    await measure(
      async () => {
        await (await files.lockShared(object))?.release();
      },
      seconds,
      maxOps,
    ),
  ]);
  rows.push([
    "git-annex removal lock (exclusive)",
    await measure(
      async () => {
        await files.whileRemoving(object, async () => undefined);
      },
      seconds,
      maxOps,
    ),
  ]);

  console.log(`content locks: lock+unlock, ${seconds} s each`);
  console.log(`helper start (perl, with its self-test): ${fixed(startMs)} ms`);
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
