/**
 * `annexgate sim start [FILE] | show | end | run FILE | COMMAND…`: git-annex
 * 10.20250416's `git annex sim` (Command/Sim.hs), on annexgate's in-memory
 * engine.
 *
 * Between invocations the started sim is kept in `.git/annex/annexgate-sim/`
 * as its log — the very sim file `sim show` prints (seed first, then every
 * command and the present/notpresent outcome lines) — and rebuilt on each
 * invocation by replaying it. Why a log rather than a serialized state: the
 * engine is deterministic for a seed and writes sizes with every digit, so
 * the log rebuilds the same state exactly, needs no second format to keep
 * in step with the engine, and stock `git annex sim run` can read it too.
 * The cost is recomputing the sim on each command, which the in-memory
 * engine does in milliseconds for sims of stock's size.
 */
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import {
  analyseExpressions,
  formatReportHtml,
  formatReportText,
  formatSimFile,
  parseSimFile,
  parseSimWords,
  Sim,
  type SimCommand,
  SimError,
  type SimObserver,
  type SimOptions,
  SimRecorder,
} from "../sim/index.js";
import { openGitHere } from "./command.js";
import { applyWithVisits, longNote, settleBeforeVisit, startWithVisits } from "./sim-apply.js";
import { readRealState } from "./sim-from.js";
import { type ExistingRepos, loadExistingRepos } from "./sim-use.js";
import { UsageError } from "./usage.js";

/**
 * The log of the started sim, a marker that a check in it failed, the
 * log's lengths where it was suspended (sim-apply.ts Suspends), where its
 * globs look from.
 */
interface SimDir {
  readonly dir: string;
  readonly log: string;
  readonly failed: string;
  readonly suspends: string;
  readonly matchedPath: (file: string) => string;
}

async function simDir(): Promise<SimDir> {
  const git = await openGitHere();
  const dir = join(git.gitDir, "annex", "annexgate-sim");
  // As git-annex's sim: a file named relative to here, seen from a
  // simulated repository's directory (sim/wanted.ts stockMatchedPath).
  const simRepo = join(git.gitDir, "annex", "sim", "uuid");
  const here = process.cwd();
  const slow = (file: string) => relative(simRepo, join(here, file)).split(sep).join("/");
  // Asked for every candidate action: a plain relative name needs no path arithmetic.
  const prefix = slow(".");
  const plain = (file: string) =>
    file !== "" && !file.startsWith("/") && !/(^|\/)\.{0,2}(\/|$)/.test(file);
  const matchedPath = (file: string) => (plain(file) ? `${prefix}/${file}` : slow(file));
  return {
    dir,
    log: join(dir, "log"),
    failed: join(dir, "failed"),
    suspends: join(dir, "suspends"),
    matchedPath,
  };
}

/** The repositories `use` can name, read only when a command uses them (it costs a branch read). */
async function existingFor(commands: readonly SimCommand[]): Promise<ExistingRepos | undefined> {
  return commands.some((c) => c.kind === "use") ? loadExistingRepos() : undefined;
}

/** The progress line on stderr: actions so far, and its removal. */
const showActions = (n: number) => process.stderr.write(`\r${n} actions…`);
const clearProgress = () => process.stderr.write("\r\x1b[K");

/**
 * On a terminal, a long step shows how many actions it has taken so far
 * (on stderr, cleared when the step ends; nothing when not a terminal).
 */
function stepProgress(): SimObserver {
  let actions = 0;
  let shown = false;
  const acted = () => {
    actions += 1;
    if (actions % 65536 === 0) {
      showActions(actions);
      shown = true;
    }
  };
  return {
    transferred: acted,
    dropped: acted,
    undo: () => undefined,
    added: () => undefined,
    stepped: () => {
      if (shown) clearProgress();
      actions = 0;
      shown = false;
    },
  };
}

/** The engine with the CLI's hooks; visit and addtree are done around it (sim-apply.ts). */
function newSim(
  d: SimDir,
  note: (m: string) => void,
  existing: ExistingRepos | undefined,
  observer?: SimOptions["observer"],
): Sim {
  const watch = observer ?? (process.stderr.isTTY ? stepProgress : undefined);
  return new Sim({
    note,
    matchedPath: d.matchedPath,
    ...(watch !== undefined ? { observer: watch } : {}),
    existingRepo: existing ?? (() => ({ error: "no repository was read for it" })),
  });
}

/** The started sim's log, as `sim show` prints it. */
async function readLog(d: SimDir): Promise<string> {
  if (!existsSync(d.log)) {
    throw new UsageError("No sim has been started. Use `annexgate sim start` to start one.");
  }
  return readFile(d.log, "utf8");
}

/**
 * Rebuilds the started sim from its log. Its notes are not printed while
 * the log replays (they were printed when it ran), only after.
 */
async function restore(d: SimDir, next: readonly SimCommand[] = []): Promise<Sim> {
  const log = parseSimFile(await readLog(d));
  let replaying = true;
  const sim = newSim(
    d,
    (m) => {
      if (!replaying) longNote(m);
    },
    await existingFor([...log, ...next]),
  );
  await startWithVisits(sim, log, d.dir, { replaying: true, suspends: await readSuspends(d) });
  // A failed present/notpresent check is not in the log; the marker keeps it.
  if (existsSync(d.failed)) sim.state.failed = true;
  replaying = false;
  return sim;
}

/** Where the started sim was suspended before (none for a sim started by an older annexgate). */
async function readSuspends(d: SimDir): Promise<Set<number>> {
  const text = existsSync(d.suspends) ? await readFile(d.suspends, "utf8") : "";
  return new Set(
    text
      .split("\n")
      .filter((l) => l !== "")
      .map(Number),
  );
}

async function suspend(d: SimDir, sim: Sim): Promise<void> {
  await mkdir(d.dir, { recursive: true });
  await writeFile(d.log, formatSimFile(sim.state.history));
  await appendFile(d.suspends, `${sim.state.history.length}\n`);
  if (sim.state.failed) await writeFile(d.failed, "");
}

async function readSimFile(file: string): Promise<SimCommand[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  return parseSimFile(text);
}

/**
 * Command/Sim.hs startsim': refuses a second sim, then applies the file's
 * commands; `exit` is a failed visit's exit status, else 0.
 */
async function startSim(
  d: SimDir,
  file: string | undefined,
  from?: string,
): Promise<{ sim: Sim; exit: number }> {
  if (existsSync(d.dir)) {
    throw new UsageError(
      "A sim was previously started. Use `annexgate sim end` to stop it before starting a new one.",
    );
  }
  longNote("Sim started.");
  const commands = file === undefined ? [] : await readSimFile(file);
  const sim = newSim(d, longNote, await existingFor(commands));
  const real = from === undefined ? {} : { real: await readRealState(from) };
  return { sim, exit: await startWithVisits(sim, commands, d.dir, real) };
}

async function endSim(d: SimDir): Promise<void> {
  await rm(d.dir, { recursive: true, force: true });
  longNote("Sim ended.");
}

async function runSim(d: SimDir, file: string, from?: string): Promise<number> {
  const { sim, exit } = await startSim(d, file, from);
  if (exit !== 0) {
    // As stock, a failed visit ends the run at once (the sim is not left started here).
    await rm(d.dir, { recursive: true, force: true });
    return exit;
  }
  await endSim(d);
  if (sim.state.failed) {
    process.stdout.write(formatSimFile(sim.state.history));
    throw new SimError("Simulation shown above had errors.");
  }
  return 0;
}

/** One command against the started sim; parsed before the sim is read, as stock does. */
async function oneCommand(d: SimDir, words: readonly string[]): Promise<number> {
  const command = parseSimWords(words);
  const sim = await restore(d, [command]);
  const failedBefore = sim.state.failed;
  await settleBeforeVisit(sim, command, d.dir);
  const exit = await applyWithVisits(sim, [command], d.dir);
  if (exit !== 0) return exit;
  await suspend(d, sim);
  if (sim.state.failed && !failedBefore) throw new SimError("Simulation had errors.");
  return 0;
}

/** Chart.js's UMD build, embedded in HTML reports. */
async function chartJsSource(): Promise<string> {
  const main = createRequire(import.meta.url).resolve("chart.js");
  return readFile(join(dirname(main), "chart.umd.min.js"), "utf8");
}

/**
 * `sim report [--html FILE] [SIMFILE]`: what the started sim did (its log
 * replayed), or what SIMFILE does when run (no started sim is touched).
 * The expressions are checked before the first step runs, and again after.
 */
async function reportSim(d: SimDir, args: readonly string[], from?: string): Promise<number> {
  let html: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--html" && args[i + 1] !== undefined) html = args[++i];
    else if (a.startsWith("--html=")) html = a.slice("--html=".length);
    else if (a.startsWith("-")) throw new UsageError(`sim report: unknown option ${a}`);
    else files.push(a);
  }
  if (files.length > 1) throw new UsageError("usage: annexgate sim report [--html FILE] [SIMFILE]");
  const file = files[0];
  if (from !== undefined && file === undefined) {
    throw new UsageError("sim report --from REPO needs a sim file");
  }
  const commands = file === undefined ? parseSimFile(await readLog(d)) : await readSimFile(file);
  let recorder: SimRecorder | undefined;
  const progress = process.stderr.isTTY ? showActions : undefined;
  const sim = newSim(
    d,
    () => undefined,
    await existingFor(commands),
    (state) => {
      recorder = new SimRecorder(state, progress === undefined ? {} : { progress });
      return recorder;
    },
  );
  const firstStep = commands.findIndex((c) => c.kind === "step" || c.kind === "stepstable");
  const setup = firstStep < 0 ? commands : commands.slice(0, firstStep);
  // Visits are logged, not run: a report runs no commands.
  // A started sim's log replays with its suspends, as restore does.
  const suspends = file === undefined ? await readSuspends(d) : undefined;
  await startWithVisits(sim, setup, d.dir, {
    replaying: true,
    ...(from === undefined ? {} : { real: await readRealState(from) }),
    ...(suspends === undefined ? {} : { suspends }),
  });
  const upFront = analyseExpressions(sim);
  for (const p of upFront) process.stdout.write(`before the run: ${p}\n`);
  if (firstStep >= 0) {
    await applyWithVisits(sim, commands.slice(firstStep), d.dir, true, suspends);
  }
  if (progress !== undefined) clearProgress();
  const report = (recorder as SimRecorder).report(analyseExpressions(sim));
  process.stdout.write(formatReportText(report));
  if (html !== undefined) await writeFile(html, formatReportHtml(report, await chartJsSource()));
  return 0;
}

/** `--from REPO` (or `--from=REPO`) taken out of the arguments. */
function takeFrom(argv: readonly string[]): { from?: string; rest: string[] } {
  const rest: string[] = [];
  let from: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--from" && argv[i + 1] !== undefined) from = argv[++i];
    else if (a.startsWith("--from=")) from = a.slice("--from=".length);
    else rest.push(a);
  }
  return from === undefined ? { rest } : { from, rest };
}

export async function simCommand(args: readonly string[]): Promise<number> {
  const d = await simDir();
  const { from, rest: argv } = takeFrom(args);
  const [verb, ...rest] = argv;
  if (from !== undefined && verb !== "run" && verb !== "report") {
    throw new UsageError("--from REPO goes with sim run and sim report");
  }
  if (verb === "start" && rest.length <= 1) {
    const { sim, exit } = await startSim(d, rest[0]);
    if (exit !== 0) return exit;
    await suspend(d, sim);
    if (sim.state.failed) throw new SimError("Simulation had errors.");
    return 0;
  }
  if (verb === "end" && rest.length === 0) {
    await endSim(d);
    return 0;
  }
  if (verb === "show" && rest.length === 0) {
    // The log is written as formatSimFile(history): no need to replay it to print it.
    process.stdout.write(await readLog(d));
    return 0;
  }
  if (verb === "run" && rest.length === 1 && rest[0] !== undefined) {
    return runSim(d, rest[0], from);
  }
  if (verb === "report") return reportSim(d, rest, from);
  return oneCommand(d, argv);
}
