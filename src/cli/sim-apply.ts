/**
 * Applying sim commands, with the two that need real repositories done
 * here, around the in-memory engine: a `visit` (Annex/Sim.hs
 * `CommandVisit`) makes the simulated repository's view a real
 * repository under the sim's directory (sim/visit.ts) and runs the
 * command there with `sh -c`, or an interactive shell when none is given;
 * an `addtree` reads this repository's annexed files (sim-tree.ts). A
 * visit replayed from a log is not run again, only logged; an addtree
 * replayed reads the files again.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { materialiseView, type RealState, type Sim, type SimCommand } from "../sim/index.js";
import { treeFilesMatching } from "./sim-tree.js";

type Visit = SimCommand & { kind: "visit" };

/** git-annex's showLongNote: the message on its own line, indented, after a blank line. */
export function longNote(message: string): void {
  process.stdout.write(`\n  ${message}\n`);
}

function exitCodeOf(cmd: string, args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

const repoDir = (simDir: string, uuid: string): string => join(simDir, "repos", uuid);

/**
 * Before a visit to a sim restored from its log: stock git-annex updates
 * every simulated repository when it suspends a sim and commits what it
 * wrote, so a visit in a later invocation finds the state of that moment
 * committed. The restored state is that state.
 */
export async function settleBeforeVisit(sim: Sim, c: SimCommand, simDir: string): Promise<void> {
  if (c.kind !== "visit") return;
  const repo = sim.visitTarget(c);
  sim.state.updateRepos();
  await materialiseView(sim, repo, repoDir(simDir, repo.uuid), { commit: true });
}

/** Runs one visit; its exit status (0 when it ran well). */
async function visit(sim: Sim, c: Visit, simDir: string, replaying: boolean): Promise<number> {
  const repo = sim.visitTarget(c);
  // git-annex brings every clone up to date before a visit (Sim.hs updateSimRepos).
  sim.state.updateRepos();
  if (replaying) {
    sim.recordVisit(c);
    return 0;
  }
  const dir = repoDir(simDir, repo.uuid);
  await materialiseView(sim, repo, dir);
  if (c.command.length === 0) {
    longNote("Starting a shell in the simulated repository.");
    await exitCodeOf(process.env.SHELL ?? "sh", [], dir);
    longNote("Finished visit to simulated repository.");
    return 0;
  }
  const code = await exitCodeOf("sh", ["-c", c.command.join(" ")], dir);
  if (code !== 0) {
    longNote(`Command ${c.command.join(" ")} exited nonzero.`);
    return code;
  }
  sim.recordVisit(c);
  return 0;
}

/**
 * Starts `sim` with `commands` (Sim.start), or from `real` (Sim.startFrom)
 * then the commands, running visits (and reading trees for addtree) as
 * they come; stops at a visit whose command fails and returns its exit
 * status.
 */
export async function startWithVisits(
  sim: Sim,
  commands: readonly SimCommand[],
  simDir: string,
  opts: {
    readonly replaying?: boolean;
    readonly real?: RealState;
    readonly suspends?: Suspends;
  } = {},
): Promise<number> {
  const replaying = opts.replaying === true;
  const suspends = opts.suspends;
  if (opts.real !== undefined) {
    sim.startFrom(opts.real);
    return applyWithVisits(sim, commands, simDir, replaying, suspends);
  }
  const first = commands.findIndex((c) => c.kind === "visit" || c.kind === "addtree");
  const after = suspends === undefined ? undefined : () => suspended(sim, suspends);
  sim.start(first < 0 ? commands : commands.slice(0, first), after);
  if (first < 0) return 0;
  return applyWithVisits(sim, commands.slice(first), simDir, replaying, suspends);
}

/**
 * Where a started sim was suspended, as lengths of its log: git-annex
 * brings its clones up to date there (Sim.hs `suspendSim`), so a replay
 * does too (SimState.updateRepos).
 */
export type Suspends = ReadonlySet<number>;

function suspended(sim: Sim, suspends: Suspends): void {
  if (suspends.has(sim.state.history.length)) sim.state.updateRepos();
}

/** Applies `commands` to a started sim, running visits as they come (see startWithVisits). */
export async function applyWithVisits(
  sim: Sim,
  commands: readonly SimCommand[],
  simDir: string,
  replaying = false,
  suspends?: Suspends,
): Promise<number> {
  for (const c of commands) {
    if (suspends !== undefined) suspended(sim, suspends);
    if (c.kind === "addtree") {
      const u = sim.addTreeTarget(c);
      sim.applyAddTree(c, await treeFilesMatching(sim.state.repo(u).uuid, c.expression));
    } else if (c.kind === "visit") {
      const code = await visit(sim, c, simDir, replaying);
      if (code !== 0) return code;
    } else {
      sim.apply(c);
    }
  }
  if (suspends !== undefined) suspended(sim, suspends);
  return 0;
}
