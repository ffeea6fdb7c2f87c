/**
 * Preferred content: how fast annexgate evaluates placement expressions,
 * and annexgate against stock git-annex answering the same questions.
 *
 * 1. In process: `balanced=g` and `sizebalanced=g` for BENCH_PC_KEYS keys
 *    (1,000,000) in a 10-node group, for every node (which nodes want each
 *    key), keys per second and how evenly the keys spread.
 * 2. Side by side, for each of BENCH_PC_FILES (1000,100000; 200,2000
 *    quick): a repository of that many annexed files whose content is on
 *    other repositories, wanting `fullybalanced=g` over 10 members; stock
 *    `git annex find --want-get` against `annexgate matchexpression
 *    --batch` (same expression, each file's key), whole commands timed,
 *    ratio printed, and the two answers checked to agree. Setting up
 *    100,000 files takes stock git-annex minutes.
 *
 * Usage: node dist/bench/preferred-content.js [--quick]
 */
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseKey } from "../src/keys/index.js";
import {
  matches,
  Policy,
  type PolicySnapshot,
  parsePreferredContent,
} from "../src/preferred-content/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../test/helpers/index.js";
import { prng } from "../test/helpers/prng.js";
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

interface SideBySide {
  readonly setupSecs: number;
  readonly stockSecs: number;
  readonly oursSecs: number;
  readonly wanted: number;
}

/**
 * A repository of `files` annexed files whose content is elsewhere: each
 * key (made up, `git annex fromkey --force`) is on two of nine directory
 * remotes (`setpresentkey`), as a gateway's nodes hold what it does not;
 * the repository wants `fullybalanced=g` over all ten. Stock `find
 * --want-get` and `annexgate matchexpression --batch` (every file's key)
 * answer which files it wants, and must agree.
 */
async function sideBySide(dir: string, files: number): Promise<SideBySide> {
  const t0 = process.hrtime.bigint();
  const repo = await gitAnnexRepo(join(dir, "here"), "here");
  const annex = (...args: string[]): Promise<string> =>
    run("git", ["annex", ...args], { cwd: repo });
  await annex("group", "here", "g");
  const remotes: string[] = [];
  for (let i = 1; i < 10; i++) {
    await mkdir(join(dir, `d${i}`));
    await annex(
      "initremote",
      `r${i}`,
      "type=directory",
      `directory=${join(dir, `d${i}`)}`,
      "encryption=none",
    );
    await annex("group", `r${i}`, "g");
    remotes.push((await run("git", ["config", `remote.r${i}.annex-uuid`], { cwd: repo })).trim());
  }
  await annex("wanted", "here", "fullybalanced=g");
  const keys = Array.from(
    { length: files },
    (_, i) =>
      `SHA256E-s${1000 + (i % 5000)}--${createHash("sha256").update(String(i)).digest("hex")}.dat`,
  );
  const paths = keys.map((_, i) => `f/${Math.floor(i / 1000)}/${i}.dat`);
  await run("git", ["annex", "fromkey", "--force", "--batch"], {
    cwd: repo,
    input: keys.map((k, i) => `${k} ${paths[i]}\n`).join(""),
  });
  await run("git", ["commit", "-qm", "files"], { cwd: repo });
  const draw = prng(files);
  const present = keys.flatMap((k) => {
    const a = Math.floor(draw() * remotes.length);
    const b = (a + 1 + Math.floor(draw() * (remotes.length - 1))) % remotes.length;
    return [`${k} ${remotes[a]} 1`, `${k} ${remotes[b]} 1`];
  });
  await run("git", ["annex", "setpresentkey", "--batch"], {
    cwd: repo,
    input: `${present.join("\n")}\n`,
  });
  const setupSecs = Number(process.hrtime.bigint() - t0) / 1e9;
  const questions = keys.map((key, i) =>
    JSON.stringify({ expr: "fullybalanced=g", file: paths[i], key }),
  );

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
  if (stockWanted !== oursWanted) {
    throw new Error(`${files} files: stock wants ${stockWanted}, annexgate ${oursWanted}`);
  }
  return { setupSecs, stockSecs, oursSecs, wanted: oursWanted };
}

benchMain("preferred-content", async (cleanup) => {
  const quick = isQuick();
  const keys = envInt("BENCH_PC_KEYS", quick ? 20_000 : 1_000_000);
  const sizes = (process.env.BENCH_PC_FILES ?? (quick ? "200,2000" : "1000,100000"))
    .split(",")
    .map((n) => Number(n));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error("BENCH_PC_FILES: comma-separated positive integers");
  }

  console.log(`\n# preferred content, in process: ${keys} keys, 10-node group, every node asked\n`);
  printTable(
    ["expression", "keys", "seconds", "keys/s", "evaluations/s", "keys per node"],
    inProcess(keys),
  );

  const tmp = await makeTempDir("annexgate-bench-pc-");
  cleanup.add(() => removeDir(tmp));
  for (const files of sizes) {
    const row = await sideBySide(join(tmp, String(files)), files);
    console.log(
      `\n# preferred content, side by side: ${files} files, fullybalanced=g over 10 members (${row.wanted} wanted here; set up in ${fixed(row.setupSecs, 0)} s)\n`,
    );
    printTable(
      ["tool", "seconds", "questions/s", "vs stock"],
      [
        [
          "stock find --want-get",
          fixed(row.stockSecs, 2),
          fixed(files / row.stockSecs, 0),
          "1.00x",
        ],
        [
          "annexgate matchexpression --batch",
          fixed(row.oursSecs, 2),
          fixed(files / row.oursSecs, 0),
          ratio(row.stockSecs, row.oursSecs),
        ],
      ],
    );
    await removeDir(join(tmp, String(files)));
  }
});
