/**
 * Globs against hostile associated files: a dozen nasty globs, each
 * matched against 100 KB paths of a few shapes (all "/", "a/" repeated,
 * many short lines), timed for annexgate's matcher in process (what would
 * block the gateway's event loop), for `annexgate matchexpression --batch`
 * (whole command) and for stock `git annex matchexpression --file=…`
 * (one whole command per question). Prints the times and ratios, and
 * checks that every answer agrees with stock. Goal: under 50 ms per
 * shape for the dozen globs in process.
 *
 * Usage: node dist/bench/glob.js [--quick]   (--quick: one shape)
 */
import { join } from "node:path";
import { compileGlob } from "../src/preferred-content/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { benchMain, fixed, isQuick, printTable, ratio, runTimed, timed } from "./common.js";

const CLI = join(import.meta.dirname, "..", "src", "cli", "main.js");
const SIZE = 100_000;

const NASTY = [
  "photos/*/*.jpg",
  "*/*/*/*/*/*/*/*/*/*.jpg",
  "*a*a*a*a*a*a*a*b",
  "**************x",
  "*?*?*?*?*?*?*?*?*",
  "[!/]*/[!/]*/[!/]*/x",
  "a/a/a/a/a/a/a/a/a/a/b",
  "*[ab]*[ab]*[ab]*[ab]*c",
  "*.*.*.*.*.*.*.z",
  "*/",
  "??????????????????????????????!",
  "[[:alpha:]]*[[:digit:]]*/*/*/?",
];

const SHAPES: Record<string, string> = {
  slashes: "/".repeat(SIZE),
  "a/ repeated": "a/".repeat(SIZE / 2),
  "short lines": `${"a/b\n".repeat(SIZE / 4 - 1)}a/a`,
};

/** Milliseconds for one pass of every glob over `file` in process (best of a few), and the answers. */
function inProcess(file: string): { ms: number; answers: boolean[] } {
  const globs = NASTY.map((g) => compileGlob(g, { filePath: true }));
  let best = Number.POSITIVE_INFINITY;
  let answers: boolean[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    answers = globs.map((g) => g(file));
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: best, answers };
}

async function stockAnswers(repo: string, file: string): Promise<number[]> {
  const out: number[] = [];
  for (const g of NASTY) {
    const code = await runTimed(
      "git",
      ["annex", "matchexpression", `include=${g}`, `--file=${file}`],
      {
        cwd: repo,
        timeoutMs: 600_000,
      },
    ).then(
      () => 0,
      () => 1,
    );
    out.push(code);
  }
  return out;
}

benchMain("glob", async (cleanup) => {
  const tmp = await makeTempDir("annexgate-bench-glob-");
  cleanup.add(() => removeDir(tmp));
  const repo = await gitAnnexRepo(join(tmp, "here"), "here");
  const shapes = Object.entries(SHAPES).slice(0, isQuick() ? 1 : undefined);
  const rows: string[][] = [];
  for (const [name, file] of shapes) {
    const ours = inProcess(file);
    let stock: number[] = [];
    const stockSecs = await timed(async () => {
      stock = await stockAnswers(repo, file);
    });
    let cli: number[] = [];
    const cliSecs = await timed(async () => {
      const input = NASTY.map((g) => JSON.stringify({ expr: `include=${g}`, file })).join("\n");
      const out = await run(process.execPath, [CLI, "matchexpression", "--batch"], {
        cwd: repo,
        input: `${input}\n`,
      });
      cli = out
        .split("\n")
        .filter((l) => l !== "")
        .map(Number);
    });
    const want = ours.answers.map((m) => (m ? 0 : 1));
    if (want.join() !== stock.join() || cli.join() !== stock.join()) {
      throw new Error(`${name}: stock ${stock} annexgate ${want} (batch ${cli})`);
    }
    rows.push([
      name,
      fixed(ours.ms, 2),
      fixed(cliSecs * 1000, 0),
      fixed(stockSecs * 1000, 0),
      ratio(stockSecs * 1000, ours.ms),
      ratio(stockSecs, cliSecs),
      ours.ms < 50 ? "yes" : "NO",
    ]);
  }
  console.log(
    `\n# globs: ${NASTY.length} nasty globs against a ${SIZE / 1000} KB associated file (answers agree with stock)\n`,
  );
  printTable(
    [
      "file shape",
      "annexgate in process ms",
      "annexgate batch ms",
      "stock ms (12 commands)",
      "stock / in process",
      "stock / batch",
      "under 50 ms",
    ],
    rows,
  );
});
