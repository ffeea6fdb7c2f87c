/**
 * `visit REPO`: one simulated repository's view as a real git-annex
 * repository, made on demand (Annex/Sim.hs `initSimRepo` and
 * `updateSimRepoState`), so that stock git-annex commands run in it
 * answer as they would in git-annex's own sim: the repository has the
 * simulated UUID; the git-annex branch has every simulated repository's
 * description ("simulated repository NAME"), trust, groups, wanted,
 * required, groupwanted, maxsize, numcopies and mincopies, the location
 * logs as this repository's view records them, and the metadata logs as
 * its clone holds them (metadata.ts); every file of the sim is staged as
 * an annexed link. As in git-annex, what is written is left in the
 * journal for the first git-annex command to commit. Made as git-annex
 * makes a clone: the "Simulation" difference recorded (so the branch is
 * never merged with a real one), and what `git annex init` sets up in a
 * work tree (the smudge filter and its attribute, the hooks).
 *
 * Nothing else of the sim reaches git-annex's clones: not connections
 * (they have no git remotes), cluster nodes or rebalance.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readlink, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import {
  AnnexBranch,
  addMetaData,
  initRepository,
  loggedMetaData,
  MINCOPIES_LOG,
  metadataLogPath,
  NUMCOPIES_LOG,
  PREFERRED_CONTENT_LOG,
  parseMetaDataLog,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readCopies,
  readGroupExpressions,
  readGroups,
  readMaxSizes,
  readTrustLevels,
  readUuidDescriptions,
  recordContentExpression,
  recordCopies,
  recordDifferences,
  recordGroupExpression,
  recordGroups,
  recordMaxSize,
  recordTrust,
  sameExactly,
  setLocations,
  setUuidDescription,
  withoutLastChanged,
} from "../branch/index.js";
import { Git } from "../git/index.js";
import { type Key, objectPath } from "../keys/index.js";
import type { Sim } from "./engine.js";
import type { SimRepo } from "./state.js";

const run = promisify(execFile);

/** git-annex's description of a simulated repository. */
export function simulatedDescription(name: string): string {
  return `simulated repository ${name}`;
}

/**
 * Makes `dir` the real repository of `repo`'s view: made the first time,
 * then brought up to date, writing only what changed since (as git-annex
 * updates its simulated repositories), so a command that commits the
 * journal finds it empty when nothing changed. With `commit`, what is
 * written is committed at once.
 */
export async function materialiseView(
  sim: Sim,
  repo: SimRepo,
  dir: string,
  opts: { readonly commit?: boolean } = {},
): Promise<void> {
  const fresh = !existsSync(join(dir, ".git"));
  if (fresh) {
    await mkdir(dir, { recursive: true });
    await run("git", ["init", "--quiet", dir]);
  }
  const git = await Git.open(dir);
  if (fresh) {
    await initRepository(git, { uuid: repo.uuid, description: simulatedDescription(repo.name) });
    await setUpWorkTree(git);
  }
  const branch = await AnnexBranch.open(git);
  try {
    if (fresh) await recordDifferences(branch, repo.uuid, ["Simulation"]);
    await writeConfiguration(sim, branch);
    await writeLocations(sim, repo, branch);
    await writeMetaData(sim, repo, branch);
    await stageFiles(sim, git);
  } finally {
    await branch.close({ leaveJournal: opts.commit !== true });
  }
}

/** What `git annex init` writes to run git-annex from git: its hooks (each 0755). */
const HOOKS: readonly [string, string][] = [
  ["pre-commit", "git annex pre-commit ."],
  [
    "post-receive",
    "if git annex post-receive --help >/dev/null 2>&1; then git annex post-receive; fi",
  ],
  ["post-checkout", "git annex smudge --update"],
  ["post-merge", "git annex smudge --update"],
];

/**
 * The work tree set-up `git annex init` does (Annex/Init.hs): the smudge
 * filter's config and its attribute, and the hooks, as git-annex writes
 * them, so git commands in the clone behave as in stock's.
 */
async function setUpWorkTree(git: Git): Promise<void> {
  for (const [k, v] of [
    ["filter.annex.smudge", "git-annex smudge -- %f"],
    ["filter.annex.clean", "git-annex smudge --clean -- %f"],
    ["filter.annex.process", "git-annex filter-process"],
  ]) {
    await git.run(["config", k as string, v as string]);
  }
  await mkdir(join(git.gitDir, "info"), { recursive: true });
  await writeFile(join(git.gitDir, "info", "attributes"), "\n* filter=annex\n");
  await mkdir(join(git.gitDir, "hooks"), { recursive: true });
  for (const [name, line] of HOOKS) {
    const path = join(git.gitDir, "hooks", name);
    await writeFile(path, `#!/bin/sh\n# automatically configured by git-annex\n${line}\n`);
    await chmod(path, 0o755);
  }
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  a.size === b.size && [...a].every((x) => b.has(x));

/** What every repository shares: descriptions, trust, groups, expressions, sizes, copies. */
async function writeConfiguration(sim: Sim, branch: AnnexBranch): Promise<void> {
  const st = sim.state;
  const descriptions = await readUuidDescriptions(branch);
  const trust = await readTrustLevels(branch);
  const groups = await readGroups(branch);
  const wanted = await readContentExpressions(branch, PREFERRED_CONTENT_LOG);
  const required = await readContentExpressions(branch, REQUIRED_CONTENT_LOG);
  const maxSizes = await readMaxSizes(branch);
  for (const r of st.repos) {
    const description = simulatedDescription(r.name);
    if (descriptions.get(r.uuid) !== description) {
      await setUuidDescription(branch, r.uuid, description);
    }
    const level = st.trust.get(r.id) ?? "semitrusted";
    // The sim gives every repository a trust level and groups: git-annex logs "?" and "" too.
    if (trust.get(r.uuid) !== level) await recordTrust(branch, r.uuid, level);
    const g = st.groups.get(r.id) ?? new Set<string>();
    const logged = groups.get(r.uuid);
    if (logged === undefined || !sameSet(logged, g)) await recordGroups(branch, r.uuid, g);
    // An expression the sim does not have is written empty, as git-annex unsets one.
    for (const [log, now, expr] of [
      [PREFERRED_CONTENT_LOG, wanted, st.wanted.get(r.id)],
      [REQUIRED_CONTENT_LOG, required, st.required.get(r.id)],
    ] as const) {
      if ((now.get(r.uuid) ?? "") !== (expr ?? "")) {
        await recordContentExpression(branch, log, r.uuid, expr ?? "");
      }
    }
    const max = st.maxSizes.get(r.id);
    if (max !== undefined && maxSizes.get(r.uuid) !== BigInt(max)) {
      await recordMaxSize(branch, r.uuid, BigInt(max));
    }
  }
  const groupWanted = await readGroupExpressions(branch);
  for (const [group, expr] of st.groupWanted) {
    if (groupWanted.get(group) !== expr) await recordGroupExpression(branch, group, expr);
  }
  for (const [log, value] of [
    [NUMCOPIES_LOG, st.numcopies],
    [MINCOPIES_LOG, st.mincopies],
  ] as const) {
    // A new sim has 1 of each, and git-annex writes only a change of it.
    if (((await readCopies(branch, log)) ?? 1) !== value) await recordCopies(branch, log, value);
  }
}

/** The location log of every key as `repo`'s view records it. */
async function writeLocations(sim: Sim, repo: SimRepo, branch: AnnexBranch): Promise<void> {
  const st = sim.state;
  const view = st.views.view(repo.id);
  for (let k = 0; k < st.keys.length; k++) {
    const changes = new Map<string, boolean>();
    view.forEachRecord(k, (r, cell) => changes.set(st.repo(r).uuid, cell > 0));
    if (changes.size > 0) await setLocations(branch, st.keys[k] as Key, changes);
  }
}

/**
 * The metadata log of every key as `repo`'s clone holds it: written where
 * the log has other metadata (addMetaData, so the log keeps one line per
 * change as git-annex's does).
 */
async function writeMetaData(sim: Sim, repo: SimRepo, branch: AnnexBranch): Promise<void> {
  const st = sim.state;
  for (const [k, held] of st.metadata.heldBy(repo.id)) {
    const key = st.keys[k] as Key;
    const logged = loggedMetaData(parseMetaDataLog(await branch.read(metadataLogPath(key))));
    if (!sameExactly(logged, withoutLastChanged(held.logged))) {
      await addMetaData(branch, key, held.logged);
    }
  }
}

/** Every file of the sim as an annexed link, staged (not committed), as git-annex stages them; new ones only. */
async function stageFiles(sim: Sim, git: Git): Promise<void> {
  const files = sim.state.sortedFiles();
  const objects = join(git.gitDir, "annex", "objects");
  const staged: string[] = [];
  for (const f of files) {
    const path = join(git.dir, f.name);
    const key = sim.state.keys[f.key];
    // A sim file names files; none may land outside the repository.
    if (key === undefined || relative(git.dir, path).startsWith("..")) continue;
    const target = relative(dirname(path), join(objects, objectPath(key, "mixed")));
    const current = await readlink(path).catch(() => null);
    if (current === target) continue;
    // The file now points at another key (added again).
    if (current !== null) await unlink(path);
    await mkdir(dirname(path), { recursive: true });
    await symlink(target, path);
    staged.push(f.name);
  }
  if (staged.length === 0) return;
  await git.run(["add", "--pathspec-from-file=-", "--pathspec-file-nul"], {
    input: Buffer.from(staged.map((name) => `${name}\0`).join("")),
  });
}
