/**
 * Throughput with a real stock git-annex client, annexgate against stock
 * `git annex p2phttp` on the same work:
 *
 *  (a) one big random file: `git annex copy --to origin`, drop it locally,
 *      `git annex get --from origin` — MiB/s each way;
 *  (b) many 4 KiB files: `copy --to origin -J8` and `get --from origin -J8`
 *      — files/s each way;
 *
 * plus the machine's own baseline on the big file: SHA-256 in Node and a
 * plain `cp`, to show how close to hash+disk speed the transfers come.
 *
 * Usage: node dist/bench/throughput.js [SIZE]   (default 1G; BENCH_SIZE too)
 * Env: BENCH_QUICK=1 (64M, 100 files), BENCH_FILES (small file count),
 * BENCH_ROUNDS (big-file rounds, median kept; 1), BENCH_JOBS (server
 * --jobs, 8), BENCH_TIMEOUT (seconds per command, 600),
 * BENCH_SERVERS=annexgate,stock.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { annexHttpClone } from "../test/helpers/servers.js";
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
  makeServerRepo,
  median,
  parseSize,
  printTable,
  ratio,
  type ServerKind,
  SMALL_SIZE,
  serverKinds,
  startCleanly,
  timed,
  writeRandomFile,
} from "./common.js";

interface Result {
  putMiBs?: number;
  getMiBs?: number;
  putFilesPerS?: number;
  getFilesPerS?: number;
  errors: string[];
}

async function nodeSha256(path: string): Promise<void> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: MiB }))
    h.update(chunk as Buffer);
  h.digest("hex");
}

async function benchServer(
  cleanup: Cleanup,
  kind: ServerKind,
  top: string,
  bigFile: string,
  bigSize: number,
  nSmall: number,
  jobs: number,
  rounds: number,
): Promise<Result> {
  const dir = join(top, kind);
  await mkdir(dir);
  cleanup.add(() => removeDir(dir));
  const serverRepo = await makeServerRepo(join(dir, "server"));
  const server = await startCleanly(cleanup, kind, serverRepo, jobs);
  try {
    const client = await annexHttpClone(serverRepo, join(dir, "client"), server.port);
    const annex = annexIn(client);

    await fillClient(client, bigFile, nSmall);

    const result: Result = { errors: [] };
    // One part failing (e.g. a server that stops answering) leaves the other measured.
    try {
      const puts: number[] = [];
      const gets: number[] = [];
      for (let round = 0; round < rounds; round++) {
        if (round > 0) await annex("drop", "-q", "--from", "origin", "big.bin");
        puts.push(await timed(() => annex("copy", "-q", "--to", "origin", "big.bin")));
        await annex("drop", "-q", "big.bin");
        gets.push(await timed(() => annex("get", "-q", "--from", "origin", "big.bin")));
      }
      result.putMiBs = bigSize / MiB / median(puts);
      result.getMiBs = bigSize / MiB / median(gets);
    } catch (e) {
      result.errors.push(`big file: ${brief(e)}`);
    }
    try {
      const putSmall = await timed(() => annex("copy", "-q", "-J8", "--to", "origin", "small"));
      result.putFilesPerS = nSmall / putSmall;
      await annex("drop", "-q", "-J8", "small");
      const getSmall = await timed(() => annex("get", "-q", "-J8", "--from", "origin", "small"));
      result.getFilesPerS = nSmall / getSmall;
    } catch (e) {
      result.errors.push(`small files: ${brief(e)}`);
    }
    if (result.errors.length === 0) {
      // The server must really hold everything it was sent.
      const have = (await annex("find", "--in", "origin")).split("\n").filter((l) => l !== "");
      const here = (await annex("find")).split("\n").filter((l) => l !== "");
      if (have.length !== nSmall + 1 || here.length !== nSmall + 1) {
        result.errors.push(`origin holds ${have.length}, client ${here.length} of ${nSmall + 1}`);
      }
    }
    return result;
  } finally {
    await server.stop();
    await removeDir(dir);
  }
}

benchMain("throughput", async (cleanup) => {
  const quick = isQuick();
  const bigSize = parseSize(firstArg() ?? process.env.BENCH_SIZE ?? (quick ? "64M" : "1G"));
  const nSmall = envInt("BENCH_FILES", quick ? 100 : 1000);
  const rounds = envInt("BENCH_ROUNDS", 1);
  // Stock p2phttp can hang for good when clients run more transfers at once
  // than its --jobs (seen with --jobs 4 and -J8), so both get the client's 8.
  const jobs = envInt("BENCH_JOBS", 8);
  const kinds = serverKinds();

  const top = await makeTempDir("annexgate-bench-throughput-");
  cleanup.add(() => removeDir(top));
  const bigFile = join(top, "big.bin");
  await writeRandomFile(bigFile, bigSize);

  // Baseline, with the file in the page cache as it is for the transfers.
  await nodeSha256(bigFile);
  const shaS = await timed(() => nodeSha256(bigFile));
  const copy = join(top, "big.copy");
  const cpS = await timed(() => run("cp", [bigFile, copy]));
  await rm(copy);

  const results = new Map<ServerKind, Result>();
  for (const kind of kinds) {
    results.set(
      kind,
      await benchServer(cleanup, kind, top, bigFile, bigSize, nSmall, jobs, rounds),
    );
  }

  const a = results.get("annexgate");
  const s = results.get("stock");
  console.log(
    `\n== throughput: stock git-annex client, big file ${formatSize(bigSize)}, ` +
      `${nSmall} x ${formatSize(SMALL_SIZE)} files, server --jobs ${jobs}, client -J8, big file median of ${rounds} ==`,
  );
  printTable(
    ["measure", "annexgate", "stock", "annexgate/stock"],
    [
      ["put big file (MiB/s)", fixed(a?.putMiBs), fixed(s?.putMiBs), ratio(a?.putMiBs, s?.putMiBs)],
      ["get big file (MiB/s)", fixed(a?.getMiBs), fixed(s?.getMiBs), ratio(a?.getMiBs, s?.getMiBs)],
      [
        "put small files (files/s)",
        fixed(a?.putFilesPerS),
        fixed(s?.putFilesPerS),
        ratio(a?.putFilesPerS, s?.putFilesPerS),
      ],
      [
        "get small files (files/s)",
        fixed(a?.getFilesPerS),
        fixed(s?.getFilesPerS),
        ratio(a?.getFilesPerS, s?.getFilesPerS),
      ],
    ],
  );
  const shaMiBs = bigSize / MiB / shaS;
  const cpMiBs = bigSize / MiB / cpS;
  // Receiving means writing and hashing every byte once, so the ceiling is
  // about one over the sum of the two per-byte costs (less if they overlap).
  const serial = 1 / (1 / shaMiBs + 1 / cpMiBs);
  console.log(
    `baseline on the big file: Node sha256 ${fixed(shaMiBs)} MiB/s, cp ${fixed(cpMiBs)} MiB/s, ` +
      `hash-then-write ${fixed(serial)} MiB/s`,
  );
  for (const [kind, r] of results) {
    const pct = (v: number | undefined) =>
      v === undefined ? "-" : `${fixed((100 * v) / serial, 0)}%`;
    console.log(`${kind}: put ${pct(r.putMiBs)}, get ${pct(r.getMiBs)} of hash-then-write`);
    for (const e of r.errors) console.log(`${kind} FAILED ${e}`);
  }
});
