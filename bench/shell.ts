/**
 * annexgate's git-annex-shell against stock git-annex-shell, over a real
 * sshd on loopback, with the same stock git-annex client and the same ssh
 * wrapper; only the authorized_keys command (which git-annex-shell a login
 * runs) changes between the two (test/helpers/sshd.ts).
 *
 *  (a) one big random file: `git annex copy --to origin`, drop it locally,
 *      `git annex get --from origin` — MiB/s each way;
 *  (b) many 4 KiB files: `copy --to origin -J8`, `get --from origin -J8` —
 *      files/s each way;
 *  (c) one login: `ssh localhost git-annex-shell configlist DIR` — ms, the
 *      cost every new connection pays (Node's start-up against GHC's).
 *
 * Usage: node dist/bench/shell.js [SIZE]   (default 1G; BENCH_SIZE too)
 * Env: BENCH_QUICK=1 (64M, 100 files), BENCH_FILES, BENCH_TIMEOUT
 * (seconds per command, 600), BENCH_SERVERS=annexgate,stock.
 */

import { mkdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { clientGitConfig, startSshd, type TestSshd } from "../test/helpers/sshd.js";
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
  timed,
  writeRandomFile,
} from "./common.js";

const LOGINS = 10;

interface Result {
  putMiBs?: number;
  getMiBs?: number;
  putFilesPerS?: number;
  getFilesPerS?: number;
  loginMs?: number;
  errors: string[];
}

async function benchShell(
  sshd: TestSshd,
  kind: ServerKind,
  top: string,
  bigFile: string,
  bigSize: number,
  nSmall: number,
): Promise<Result> {
  const dir = join(top, kind);
  await mkdir(dir);
  const loginsBefore = (await sshd.logins()).length;
  try {
    await sshd.useShell(kind);
    const gw = await makeServerRepo(join(dir, "gw"));
    const client = join(dir, "client");
    // The clone itself goes through the shell under test (git-upload-pack).
    await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client]);
    for (const [k, v] of clientGitConfig) await run("git", ["config", k, v], { cwd: client });
    const annex = annexIn(client);
    await annex("init", "-q", "client");

    await fillClient(client, bigFile, nSmall);
    await annex("sync", "-q", "--no-content");

    const result: Result = { errors: [] };
    try {
      const logins: number[] = [];
      for (let i = 0; i < LOGINS; i++) {
        logins.push(
          await timed(() => run("ssh", [sshd.host, "-T", `git-annex-shell 'configlist' '${gw}'`])),
        );
      }
      result.loginMs = median(logins) * 1000;
    } catch (e) {
      result.errors.push(`login: ${brief(e)}`);
    }
    try {
      const put = await timed(() => annex("copy", "-q", "--to", "origin", "big.bin"));
      result.putMiBs = bigSize / MiB / put;
      await annex("drop", "-q", "big.bin");
      const get = await timed(() => annex("get", "-q", "--from", "origin", "big.bin"));
      result.getMiBs = bigSize / MiB / get;
    } catch (e) {
      result.errors.push(`big file: ${brief(e)}`);
    }
    try {
      const put = await timed(() => annex("copy", "-q", "-J8", "--to", "origin", "small"));
      result.putFilesPerS = nSmall / put;
      await annex("drop", "-q", "-J8", "small");
      const get = await timed(() => annex("get", "-q", "-J8", "--from", "origin", "small"));
      result.getFilesPerS = nSmall / get;
    } catch (e) {
      result.errors.push(`small files: ${brief(e)}`);
    }
    if (result.errors.length === 0) {
      const have = (await annex("find", "--in", "origin")).split("\n").filter((l) => l !== "");
      const here = (await annex("find")).split("\n").filter((l) => l !== "");
      if (have.length !== nSmall + 1 || here.length !== nSmall + 1) {
        result.errors.push(`origin holds ${have.length}, client ${here.length} of ${nSmall + 1}`);
      }
    }
    // Every login of this run went through the shell under test.
    const others = (await sshd.logins())
      .slice(loginsBefore)
      .filter((l) => !l.startsWith(`${kind} `));
    if (others.length > 0) result.errors.push(`${others.length} logins ran another shell`);
    return result;
  } finally {
    await removeDir(dir);
  }
}

async function loadAverage(): Promise<string> {
  return (await readFile("/proc/loadavg", "utf8").catch(() => "?")).split(" ")[0] ?? "?";
}

benchMain("shell", async (cleanup: Cleanup) => {
  const quick = isQuick();
  const loadBefore = await loadAverage();
  const bigSize = parseSize(firstArg() ?? process.env.BENCH_SIZE ?? (quick ? "64M" : "1G"));
  const nSmall = envInt("BENCH_FILES", quick ? 100 : 1000);
  const kinds = serverKinds();

  const top = await makeTempDir("annexgate-bench-shell-");
  cleanup.add(() => removeDir(top));
  const bigFile = join(top, "big.bin");
  await writeRandomFile(bigFile, bigSize);

  // One sshd; between the two runs only its authorized_keys command changes.
  const sshd = await startSshd(kinds[0]);
  cleanup.add(() => sshd.stop());
  // git and git-annex take ssh from PATH: the wrapper that reaches this sshd.
  process.env.PATH = sshd.clientEnv().PATH;
  const results = new Map<ServerKind, Result>();
  for (const kind of kinds) {
    results.set(kind, await benchShell(sshd, kind, top, bigFile, bigSize, nSmall));
  }

  const a = results.get("annexgate");
  const s = results.get("stock");
  console.log(
    `\n== git-annex-shell over a real sshd: stock git-annex client, big file ${formatSize(bigSize)}, ` +
      `${nSmall} x ${formatSize(SMALL_SIZE)} files (-J8), one run ==`,
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
      [
        `ssh login + configlist (ms, median of ${LOGINS})`,
        fixed(a?.loginMs),
        fixed(s?.loginMs),
        ratio(a?.loginMs, s?.loginMs),
      ],
    ],
  );
  // Other work on the machine moves these figures; say how busy it was.
  console.log(
    `machine: ${availableParallelism()} CPUs, load average ${loadBefore} before, ${await loadAverage()} after`,
  );
  for (const [kind, r] of results) for (const e of r.errors) console.log(`${kind} FAILED ${e}`);
  if ([...results.values()].some((r) => r.errors.length > 0)) process.exitCode = 1;
});
