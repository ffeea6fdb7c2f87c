/**
 * For the tests that put `annexgate sim` beside stock `git annex sim`:
 * each run in a directory, to its end, whatever its exit status.
 */
import { join } from "node:path";
import { gitAnnexRepo, makeTempDir, type Outcome, requireGitAnnex, runOutcome } from "./index.js";
import { ANNEXGATE_BIN } from "./servers.js";

/** `git annex sim ARGS…` in `cwd`. */
export const stockSim = (cwd: string, ...args: string[]): Promise<Outcome> =>
  runOutcome("git", ["annex", "sim", ...args], { cwd });

/** `annexgate sim ARGS…` in `cwd`. */
export const annexgateSim = (cwd: string, ...args: string[]): Promise<Outcome> =>
  runOutcome(process.execPath, [ANNEXGATE_BIN, "sim", ...args], { cwd });

/** What must agree of two runs: exit status and output. */
export const seen = (o: Outcome): { code: number; stdout: string } => ({
  code: o.code,
  stdout: o.stdout,
});

/** A scratch directory with a git-annex repository for each side. */
export interface SimScratch {
  readonly tmp: string;
  readonly stockDir: string;
  readonly oursDir: string;
}

/** Makes a SimScratch (after checking that git-annex is here); removeDir(tmp) removes it. */
export async function simScratch(prefix: string): Promise<SimScratch> {
  await requireGitAnnex();
  const tmp = await makeTempDir(prefix);
  return {
    tmp,
    stockDir: await gitAnnexRepo(join(tmp, "stock"), "stock"),
    oursDir: await gitAnnexRepo(join(tmp, "ours"), "ours"),
  };
}
