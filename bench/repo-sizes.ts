/**
 * Repository sizes: annexgate against stock git-annex on a synthetic
 * repository whose git-annex branch holds 100,000 location logs over 10
 * repositories (5,000 with --quick / BENCH_QUICK=1; BENCH_KEYS sets it).
 *
 * 1. Full computation: `annexgate info` with no cache, against
 *    `git annex info` and `git annex maxsize` with no size database.
 * 2. Incremental: one commit touching 100 location logs, then each again
 *    (annexgate moves its cache forward; git-annex its database). Also the
 *    in-process cost of annexgate's incremental step alone.
 * 0. The first checkpresent answer of each p2phttp server after it starts
 *    on this repository (BENCH_KEYS=1000000 for the million-key row).
 * Time is wall clock; memory is the peak RSS of the largest process of
 * the command (GNU time's %M). The sizes of all three must agree.
 *
 * Usage: node dist/bench/repo-sizes.js [--quick]
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { locationLogPath } from "../src/branch/index.js";
import { Git } from "../src/git/index.js";
import { genUuid, parseKey } from "../src/keys/index.js";
import { currentRepoSizes, repoSizesCachePath, updateRepoSizes } from "../src/policy/index.js";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { prng } from "../test/helpers/prng.js";
import { freePort } from "../test/helpers/servers.js";
import { benchMain, envInt, fixed, isQuick, printTable, ratio, timed } from "./common.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const REPOS = 10;
const TOUCHED = 100;
const T0 = 1_700_000_000;

interface Measured {
  readonly seconds: number;
  readonly peakKiB: number;
  readonly stdout: string;
}

/** Runs a command under GNU time: wall seconds, peak RSS, stdout. */
function measure(cmd: string, args: readonly string[], cwd: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "%e %M", cmd, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const last = err.trim().split("\n").at(-1) ?? "";
      const m = /^([0-9.]+) ([0-9]+)$/.exec(last);
      if (code !== 0 || m === null) {
        reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${err.slice(-2000)}`));
        return;
      }
      resolve({
        seconds: Number(m[1]),
        peakKiB: Number(m[2]),
        stdout: Buffer.concat(out).toString(),
      });
    });
  });
}

/** Location log paths and contents for `count` keys, written with git fast-import. */
async function importLogs(
  repo: string,
  parent: string,
  files: Iterable<[string, string]>,
  message: string,
): Promise<void> {
  const chunks: string[] = [
    "commit refs/heads/git-annex\n",
    `committer bench <bench@annexgate.invalid> ${T0} +0000\n`,
    `data ${Buffer.byteLength(message)}\n${message}\n`,
    `from ${parent}\n`,
  ];
  for (const [path, content] of files) {
    chunks.push(`M 100644 inline ${path}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
  }
  chunks.push("\n");
  await run("git", ["fast-import", "--quiet"], { cwd: repo, input: chunks.join("") });
}

function sizesFromInfo(json: string): Map<string, string> {
  const o = JSON.parse(json.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  const list = (o["annex sizes of repositories"] ?? []) as { uuid: string; size: string }[];
  return new Map(list.map((e) => [e.uuid, e.size]));
}

function sameSizes(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([u, s]) => b.get(u) === s);
}

/**
 * Seconds from starting a p2phttp server in `repo` (annexgate's or
 * stock's) to its first answer to a checkpresent of `key`: every 5 ms a
 * connection is tried until one is answered (at most 120 s).
 */
async function firstAnswerSeconds(
  repo: string,
  uuid: string,
  key: string,
  kind: "annexgate" | "stock",
): Promise<number> {
  const port = await freePort();
  const listen = ["p2phttp", "--bind", "127.0.0.1", "--port", String(port), "--wideopen"];
  const t0 = performance.now();
  const child =
    kind === "annexgate"
      ? spawn(process.execPath, [CLI, ...listen], { cwd: repo, stdio: "ignore" })
      : spawn("git", ["annex", ...listen, "--jobs", "4"], { cwd: repo, stdio: "ignore" });
  const closed = new Promise((r) => child.once("close", r));
  try {
    const url =
      `http://127.0.0.1:${port}/git-annex/${uuid}/v4/checkpresent` +
      `?key=${encodeURIComponent(key)}&clientuuid=${randomUUID()}`;
    while (performance.now() - t0 < 120_000) {
      try {
        const res = await fetch(url, { method: "POST" });
        if (res.status !== 200) throw new Error(`${kind} answered ${res.status}`);
        await res.text();
        return (performance.now() - t0) / 1000;
      } catch (e) {
        if (e instanceof Error && e.message.includes("answered")) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    throw new Error(`${kind} p2phttp did not answer within 120 s`);
  } finally {
    child.kill();
    await closed;
  }
}

benchMain("repo-sizes", async (cleanup) => {
  const keys = envInt("BENCH_KEYS", isQuick() ? 5_000 : 100_000);
  const tmp = await makeTempDir("annexgate-bench-sizes-");
  cleanup.add(() => removeDir(tmp));
  const repo = join(tmp, "repo");
  await run("git", ["init", "-q", repo]);
  await run("git", ["annex", "init", "-q", "bench"], { cwd: repo });
  const here = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
  const uuids = [here, ...Array.from({ length: REPOS - 1 }, () => genUuid())];
  const rand = prng(keys);
  const tip = async () =>
    (await run("git", ["rev-parse", "refs/heads/git-annex"], { cwd: repo })).trim();

  // uuid.log naming every repository, then the location logs
  const uuidLog = (
    await run("git", ["cat-file", "-p", "git-annex:uuid.log"], { cwd: repo })
  ).concat(
    uuids
      .slice(1)
      .map((u, i) => `${u} node${i + 1} timestamp=${T0}s\n`)
      .join(""),
  );
  const keyTexts: string[] = [];
  const holders: string[][] = [];
  function* logs(): Generator<[string, string]> {
    yield ["uuid.log", uuidLog];
    for (let i = 0; i < keys; i++) {
      const size = 1 + Math.floor(rand() * 10_000_000);
      const hash = createHash("sha256").update(String(i)).digest("hex");
      const key = `SHA256E-s${size}--${hash}.dat`;
      const copies = 1 + Math.floor(rand() * 3);
      const us = [
        ...new Set(Array.from({ length: copies }, () => uuids[Math.floor(rand() * REPOS)] ?? here)),
      ];
      keyTexts.push(key);
      holders.push(us);
      // a clock per key: every log is its own blob, as in a repository built over time
      const lines = us.map((u) => `${T0 + i}s 1 ${u}\n`).join("");
      yield [locationLogPath(parseKey(key)), lines];
    }
  }
  const tBuild = await timed(async () =>
    importLogs(repo, await tip(), logs(), "bench: location logs"),
  );
  console.log(
    `== repository sizes: ${keys} keys, ${REPOS} repositories (built in ${fixed(tBuild)} s) ==`,
  );

  // 0. a server's first answer after it starts, on this branch
  const firstOurs = await firstAnswerSeconds(repo, here, keyTexts[0] ?? "", "annexgate");
  const firstStock = await firstAnswerSeconds(repo, here, keyTexts[0] ?? "", "stock");
  printTable(
    ["first checkpresent answer after start (s)", "annexgate", "stock", "annexgate/stock"],
    [["p2phttp", fixed(firstOurs, 2), fixed(firstStock, 2), ratio(firstOurs, firstStock)]],
  );

  const git = await Git.open(repo);
  const annexgate = (args: string[]) => measure(process.execPath, [CLI, ...args], repo);
  const stock = (args: string[]) => measure("git", ["annex", ...args], repo);
  const noStockDb = () =>
    rm(join(git.gitDir, "annex", "reposize"), { recursive: true, force: true });
  const noCache = () => rm(repoSizesCachePath(git), { force: true });

  // 1. full computation
  await noCache();
  const oursFull = await annexgate(["info", "--json", "--bytes"]);
  await noStockDb();
  const stockInfoFull = await stock(["info", "--json", "--bytes"]);
  await noStockDb();
  const stockMaxFull = await stock(["maxsize", "--bytes"]);
  if (!sameSizes(sizesFromInfo(oursFull.stdout), sizesFromInfo(stockInfoFull.stdout))) {
    throw new Error("annexgate and git-annex disagree on the full computation");
  }

  // 2. one commit touching 100 location logs: each key gains a copy
  const touched: [string, string][] = [];
  for (let t = 0; t < TOUCHED; t++) {
    const i = Math.floor(rand() * keys);
    const key = keyTexts[i] ?? "";
    const extra = uuids.find((u) => !(holders[i] ?? []).includes(u)) ?? here;
    const lines = [...(holders[i] ?? []), extra].map((u) => `${T0 + keys + t}s 1 ${u}\n`).join("");
    touched.push([locationLogPath(parseKey(key)), lines]);
  }
  const before = await tip();
  const cachedSizes = (await currentRepoSizes(git)).sizes; // at `before`: cache up to date
  await importLogs(repo, before, touched, "bench: 100 keys gain a copy");
  const after = await tip();
  const inProcess = await timed(() => updateRepoSizes(git, cachedSizes, before, after));
  const oursInc = await annexgate(["info", "--json", "--bytes"]);
  const stockInfoInc = await stock(["info", "--json", "--bytes"]);
  if (!sameSizes(sizesFromInfo(oursInc.stdout), sizesFromInfo(stockInfoInc.stdout))) {
    throw new Error("annexgate and git-annex disagree after the incremental update");
  }
  const mib = (k: number) => fixed(k / 1024);
  const row = (step: string, ours: Measured, theirs: Measured): string[] => [
    step,
    fixed(ours.seconds, 2),
    fixed(theirs.seconds, 2),
    ratio(ours.seconds, theirs.seconds),
    mib(ours.peakKiB),
    mib(theirs.peakKiB),
    ratio(ours.peakKiB, theirs.peakKiB),
  ];
  printTable(
    ["step", "annexgate s", "stock s", "time ratio", "annexgate MiB", "stock MiB", "memory ratio"],
    [
      row("full (vs git annex info)", oursFull, stockInfoFull),
      row("full (vs git annex maxsize)", oursFull, stockMaxFull),
      row(`incremental, ${TOUCHED} keys (info)`, oursInc, stockInfoInc),
    ],
  );
  console.log(
    `incremental step alone, in process: ${fixed(inProcess, 3)} s (goal: well under 0.5 s); ` +
      "command times include process start-up.",
  );
});
