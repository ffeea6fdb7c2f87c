/**
 * `visit REPO`: one simulated repository's view as a real git-annex
 * repository, made on demand (Annex/Sim.hs `initSimRepo` and
 * `updateSimRepoState`), so that stock git-annex commands run in it
 * answer as they would in git-annex's own sim: the repository has the
 * simulated UUID; the git-annex branch has every simulated repository's
 * description ("simulated repository NAME"), trust, groups, wanted,
 * required, groupwanted, maxsize, numcopies and mincopies, and the
 * location logs as this repository's view records them; every file of
 * the sim is staged as an annexed link. As in git-annex, what is written
 * is left in the journal for the first git-annex command to commit.
 *
 * Not carried over: metadata (git-annex's sim writes it; nothing of
 * annexgate's branch layer writes metadata logs yet).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readlink, symlink, unlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import {
  AnnexBranch,
  initRepository,
  MINCOPIES_LOG,
  NUMCOPIES_LOG,
  PREFERRED_CONTENT_LOG,
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
  recordGroupExpression,
  recordGroups,
  recordMaxSize,
  recordTrust,
  setLocations,
  setUuidDescription,
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
  }
  const branch = await AnnexBranch.open(git);
  try {
    await writeConfiguration(sim, branch);
    await writeLocations(sim, repo, branch);
    await stageFiles(sim, git);
  } finally {
    await branch.close({ leaveJournal: opts.commit !== true });
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
    if ((trust.get(r.uuid) ?? "semitrusted") !== level) await recordTrust(branch, r.uuid, level);
    const g = st.groups.get(r.id) ?? new Set<string>();
    if (!sameSet(groups.get(r.uuid) ?? new Set(), g)) await recordGroups(branch, r.uuid, g);
    // An expression the sim does not have is written empty, as git-annex unsets one.
    for (const [log, now, expr] of [
      [PREFERRED_CONTENT_LOG, wanted, st.wanted.get(r.id)],
      [REQUIRED_CONTENT_LOG, required, st.required.get(r.id)],
    ] as const) {
      if ((now.get(r.uuid) ?? "") !== (expr ?? "")) {
        await recordContentExpression(branch, log, r.uuid, expr ?? "");
      }
    }
    const maxSize = BigInt(st.maxSizes.get(r.id) ?? 0);
    if ((maxSizes.get(r.uuid) ?? 0n) !== maxSize) await recordMaxSize(branch, r.uuid, maxSize);
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
  const columns = st.views.view(repo.id).columns;
  for (let k = 0; k < st.keys.length; k++) {
    const changes = new Map<string, boolean>();
    columns.forEach((col, r) => {
      const cell = col?.[k] ?? 0;
      if (cell !== 0) changes.set(st.repo(r).uuid, cell > 0);
    });
    if (changes.size > 0) await setLocations(branch, st.keys[k] as Key, changes);
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
