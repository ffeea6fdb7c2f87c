/**
 * `annexgate sim run` against stock `git annex sim run` on the same sim
 * files, one run: 10 repositories (a source and nine stores in one group,
 * each wanting `balanced=store:2` with a maxsize, numcopies 2) and F files
 * added to the source, stepped until stable. Prints wall time and peak
 * RSS (of the largest process, GNU time's %M) of each, and the ratios;
 * then annexgate alone on the large sims stock cannot run in reasonable
 * time. Both must say the sim stabilized.
 *
 * Usage: node dist/bench/sim.js [--quick]
 * Env: SIM_STOCK_FILES (default 200; stock takes about 1 min 40 s on it),
 * SIM_SIZES (annexgate alone, "REPOSxFILES,…"; default
 * "10x2000,20x100000"; add 50x1000000 for the largest, which takes most of
 * an hour), SIM_TIMEOUT_MIN (default 60: the limit of each annexgate run).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gitAnnexRepo, makeTempDir, removeDir } from "../test/helpers/index.js";
import { ANNEXGATE_BIN } from "../test/helpers/servers.js";
import { benchMain, envInt, fixed, isQuick, printTable, ratio, runTimed } from "./common.js";

/** The sim file: a source, `repos - 1` balanced stores with room for three fair shares. */
function simFile(repos: number, files: number): string {
  const lines = ["seed 1", "init src", "numcopies 2"];
  const share = Math.ceil((files * 2 * 5_500_000 * 3) / (repos - 1));
  for (let i = 1; i < repos; i++) {
    lines.push(
      `init n${i}`,
      `connect src -> n${i}`,
      `group n${i} store`,
      `wanted n${i} balanced=store:2`,
      `maxsize n${i} ${share}`,
    );
  }
  lines.push(`addmulti ${files} .bin 1MB 10MB src`, `stepstable ${files * 4}`);
  return `${lines.join("\n")}\n`;
}

interface Measured {
  readonly seconds: number;
  readonly rssMiB: number;
  readonly stabilized: string;
}

/** Runs `cmd` under GNU time in `cwd`; its wall time, peak RSS and the stabilized note. */
async function measure(cwd: string, cmd: string[], timeoutMs: number): Promise<Measured> {
  const stats = join(cwd, "time.out");
  const out = await runTimed("/usr/bin/time", ["-o", stats, "-f", "%e %M", ...cmd], {
    cwd,
    timeoutMs,
  });
  const [secs, kib] = (await readFile(stats, "utf8")).trim().split(/\s+/).slice(-2);
  const note = /Simulation has stabilized after (\d+) steps/.exec(out);
  if (note === null) throw new Error(`${cmd.join(" ")} did not stabilize:\n${out}`);
  return { seconds: Number(secs), rssMiB: Number(kib) / 1024, stabilized: note[1] as string };
}

benchMain("sim", async (cleanup) => {
  const quick = isQuick();
  const stockFiles = envInt("SIM_STOCK_FILES", quick ? 50 : 200);
  const sizes = (process.env.SIM_SIZES ?? (quick ? "10x2000" : "10x2000,20x100000"))
    .split(",")
    .map((s) => s.split("x").map(Number) as [number, number]);
  const dir = await makeTempDir("annexgate-bench-sim-");
  cleanup.add(() => removeDir(dir));
  const repo = await gitAnnexRepo(join(dir, "repo"), "bench sim");
  const ours = (file: string) => [process.execPath, ANNEXGATE_BIN, "sim", "run", file];
  const stock = (file: string) => ["git", "annex", "sim", "run", file];

  console.log(
    `sim: stock git annex sim vs annexgate sim, same sim file (10 repositories, ${stockFiles} files)`,
  );
  const file = join(dir, `10x${stockFiles}.sim`);
  await writeFile(file, simFile(10, stockFiles));
  const s = await measure(repo, stock(file), 3_600_000);
  const a = await measure(repo, ours(file), 600_000);
  printTable(
    ["sim", "stock s", "annexgate s", "speed-up", "stock MiB", "annexgate MiB", "steps"],
    [
      [
        `10 × ${stockFiles}`,
        fixed(s.seconds, 2),
        fixed(a.seconds, 2),
        ratio(s.seconds, a.seconds),
        fixed(s.rssMiB, 0),
        fixed(a.rssMiB, 0),
        s.stabilized === a.stabilized ? s.stabilized : `${s.stabilized} vs ${a.stabilized}`,
      ],
    ],
  );

  // Node's own footprint, so the per-cell figure is the sim's.
  const tiny = join(dir, "2x1.sim");
  await writeFile(tiny, simFile(2, 1));
  const baseline = (await measure(repo, ours(tiny), 600_000)).rssMiB;
  const rows: string[][] = [];
  for (const [repos, files] of sizes) {
    const f = join(dir, `${repos}x${files}.sim`);
    await writeFile(f, simFile(repos, files));
    const m = await measure(repo, ours(f), envInt("SIM_TIMEOUT_MIN", 60) * 60_000);
    const cells = repos * files;
    rows.push([
      `${repos} × ${files}`,
      fixed(m.seconds, 2),
      fixed(m.rssMiB, 0),
      fixed(((m.rssMiB - baseline) * 1024 * 1024) / cells, 1),
      m.stabilized,
    ]);
  }
  console.log(
    `annexgate sim alone (a 2-repository, 1-file sim peaks at ${fixed(baseline, 0)} MiB)`,
  );
  printTable(["sim", "seconds", "peak MiB", "bytes per repo×file above that", "steps"], rows);
});
