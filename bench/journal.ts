/**
 * Committing a large journal: stock `git annex setpresentkey --batch` with
 * annex.alwayscommit=false leaves 100,000 journal files (5,000 with
 * --quick / BENCH_QUICK=1; BENCH_KEYS sets it) in a repository, which is
 * then copied; `annexgate info --json --bytes` runs in one copy and
 * `git annex info --json --bytes` in the other (each commits the journal).
 * Prints both times, the ratio, and annexgate's second run (from its
 * cache, with how it got its sizes). The sizes of both must agree, and so
 * must the trees both committed.
 *
 * Usage: node dist/bench/journal.js [--quick]
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../test/helpers/index.js";
import {
  benchMain,
  COMMAND_TIMEOUT_MS,
  envInt,
  fixed,
  isQuick,
  printTable,
  ratio,
  runTimed,
  timed,
} from "./common.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

function keyLines(uuid: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const hash = createHash("sha256").update(String(i)).digest("hex");
    lines.push(`SHA256E-s${1000 + i}--${hash} ${uuid} 1\n`);
  }
  return lines.join("");
}

/** The sizes part of an info --json answer, comparable between the two. */
function sizes(json: string): string {
  const o = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify([
    o["annex sizes of repositories"],
    o["combined annex size of all repositories"],
  ]);
}

benchMain("journal", async (cleanup) => {
  const n = envInt("BENCH_KEYS", isQuick() ? 5000 : 100_000);
  const tmp = await makeTempDir("annexgate-bench-journal-");
  cleanup.add(() => removeDir(tmp));
  const repo = await gitAnnexRepo(join(tmp, "ours"), "bench");
  const uuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
  const made = await timed(() =>
    run("git", ["-c", "annex.alwayscommit=false", "annex", "setpresentkey", "--batch"], {
      cwd: repo,
      input: keyLines(uuid, n),
    }),
  );
  const left = (await readdir(join(repo, ".git", "annex", "journal"))).length;
  console.log(`journal: ${left} entries left by stock setpresentkey in ${fixed(made)} s`);
  const stockRepo = join(tmp, "stock");
  await run("cp", ["-a", repo, stockRepo]);
  const opts = { cwd: repo, timeoutMs: COMMAND_TIMEOUT_MS };
  let ours = "";
  let stock = "";
  const tOurs = await timed(async () => {
    ours = await runTimed(process.execPath, [CLI, "info", "--json", "--bytes"], opts);
  });
  let again = "";
  const tAgain = await timed(async () => {
    again = await runTimed(
      "sh",
      ["-c", `exec "$0" "$1" info --json --bytes --debug 2>&1`, process.execPath, CLI],
      opts,
    );
  });
  const tStock = await timed(async () => {
    stock = await runTimed("git", ["annex", "info", "--json", "--bytes"], {
      ...opts,
      cwd: stockRepo,
    });
  });
  printTable(
    ["command", "seconds", "vs stock"],
    [
      ["annexgate info (commits the journal)", fixed(tOurs, 2), ratio(tOurs, tStock)],
      ["annexgate info again", fixed(tAgain, 2), ratio(tAgain, tStock)],
      ["git annex info (commits the journal)", fixed(tStock, 2), "1.00x"],
    ],
  );
  const how = again.split("\n").find((l) => l.startsWith("[annexgate] repository sizes:"));
  console.log(`second annexgate info: ${how ?? "(no debug line)"}`);
  if (sizes(ours) !== sizes(stock))
    throw new Error(`sizes differ: ${sizes(ours)} vs ${sizes(stock)}`);
  const tree = async (cwd: string) =>
    (await run("git", ["rev-parse", "refs/heads/git-annex^{tree}"], { cwd })).trim();
  if ((await tree(repo)) !== (await tree(stockRepo))) throw new Error("the committed trees differ");
});
