/**
 * Preferred content: how fast annexgate evaluates placement expressions,
 * and annexgate against stock git-annex answering the same questions.
 *
 * 1. In process: `balanced=g` and `sizebalanced=g` for BENCH_PC_KEYS keys
 *    (1,000,000) in a 10-node group, for every node (which nodes want each
 *    key), keys per second and how evenly the keys spread.
 * 2. Side by side: a repository of BENCH_PC_FILES annexed files (1000)
 *    wanting `fullybalanced=g` over 10 members; stock `git annex find
 *    --want-get` against `annexgate matchexpression --batch` (same
 *    expression, each file's key), whole commands timed, ratio printed,
 *    and the two answers checked to agree.
 *
 * Usage: node dist/bench/preferred-content.js [--quick]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseKey } from "../src/keys/index.js";
import {
  matches,
  Policy,
  type PolicySnapshot,
  parsePreferredContent,
} from "../src/preferred-content/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { benchMain, envInt, fixed, isQuick, printTable, ratio, timed } from "./common.js";

const CLI = join(import.meta.dirname, "..", "src", "cli", "main.js");

function nodeUuid(i: number): string {
  return `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`;
}

function inProcess(keys: number): string[][] {
  const nodes = Array.from({ length: 10 }, (_, i) => nodeUuid(i));
  const snapshot: PolicySnapshot = {
    groups: new Map(nodes.map((u) => [u, new Set(["g"])])),
    trust: new Map(),
    preferred: new Map(),
    required: new Map(),
    groupPreferred: new Map(),
    // Sizes are held fixed, so sizebalanced sends every key to the node
    // with the most free space in proportion.
    maxSizes: new Map(nodes.map((u, i) => [u, 1e12 * (1 + (i % 3))])),
    repoSizes: new Map(nodes.map((u, i) => [u, 1e11 * i])),
  };
  const policy = new Policy(snapshot);
  const rows: string[][] = [];
  for (const expr of ["balanced=g", "sizebalanced=g"]) {
    const p = parsePreferredContent(expr);
    if (!p.ok) throw new Error(p.errors.join(" "));
    const counts = new Map<string, number>();
    const state = { locations: [] as string[] };
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < keys; k++) {
      const key = parseKey(
        `SHA256E-s${1000 + (k % 5000)}--${k.toString(16).padStart(64, "0")}.bin`,
      );
      for (const u of nodes) {
        if (matches(policy, p.matcher, { mode: "info", key }, { repo: u, state })) {
          counts.set(u, (counts.get(u) ?? 0) + 1);
        }
      }
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const spread = [...counts.values()];
    rows.push([
      expr,
      String(keys),
      fixed(secs, 2),
      fixed(keys / secs, 0),
      fixed((keys * nodes.length) / secs, 0),
      `${Math.min(...spread)}..${Math.max(...spread)} over ${counts.size}`,
    ]);
  }
  return rows;
}

benchMain("preferred-content", async (cleanup) => {
  const quick = isQuick();
  const keys = envInt("BENCH_PC_KEYS", quick ? 20_000 : 1_000_000);
  const files = envInt("BENCH_PC_FILES", quick ? 200 : 1000);

  console.log(`\n# preferred content, in process: ${keys} keys, 10-node group, every node asked\n`);
  printTable(
    ["expression", "keys", "seconds", "keys/s", "evaluations/s", "keys per node"],
    inProcess(keys),
  );

  const tmp = await makeTempDir("annexgate-bench-pc-");
  cleanup.add(() => removeDir(tmp));
  const repo = await gitAnnexRepo(join(tmp, "here"), "here");
  const annex = (...args: string[]): Promise<string> =>
    run("git", ["annex", ...args], { cwd: repo });
  await annex("group", "here", "g");
  for (let i = 1; i < 10; i++) {
    await mkdir(join(tmp, `d${i}`));
    await annex(
      "initremote",
      `r${i}`,
      "type=directory",
      `directory=${join(tmp, `d${i}`)}`,
      "encryption=none",
    );
    await annex("group", `r${i}`, "g");
  }
  await annex("wanted", "here", "fullybalanced=g");
  await mkdir(join(repo, "f"));
  for (let i = 0; i < files; i++) await writeFile(join(repo, "f", `${i}.txt`), `file ${i}\n`);
  await annex("add", "f");
  await run("git", ["commit", "-qm", "files"], { cwd: repo });
  // git-annex's own ${file} ${key} format variables, not JavaScript placeholders.
  const format = ["--format=$", "{file} $", "{key}\\n"].join("");
  const lines = (await annex("find", "--include=*", format)).split("\n").filter((l) => l !== "");
  const questions = lines.map((l) => {
    const [file = "", key = ""] = l.split(" ");
    return JSON.stringify({ expr: "fullybalanced=g", file, key });
  });

  let stockWanted = 0;
  const stockSecs = await timed(async () => {
    stockWanted = (await annex("find", "--want-get")).split("\n").filter((l) => l !== "").length;
  });
  let oursWanted = 0;
  const oursSecs = await timed(async () => {
    const out = await run(process.execPath, [CLI, "matchexpression", "--batch"], {
      cwd: repo,
      input: `${questions.join("\n")}\n`,
    });
    oursWanted = out.split("\n").filter((l) => l === "0").length;
  });
  if (stockWanted !== oursWanted)
    throw new Error(`stock wants ${stockWanted}, annexgate ${oursWanted}`);

  console.log(
    `\n# preferred content, side by side: ${files} files, fullybalanced=g over 10 members (${oursWanted} wanted here)\n`,
  );
  printTable(
    ["tool", "seconds", "questions/s", "vs stock"],
    [
      ["stock find --want-get", fixed(stockSecs, 2), fixed(files / stockSecs, 0), "1.00x"],
      [
        "annexgate matchexpression --batch",
        fixed(oursSecs, 2),
        fixed(files / oursSecs, 0),
        ratio(stockSecs, oursSecs),
      ],
    ],
  );
});
