/**
 * From an action to its components (Annex/Sim.hs
 * `getSimActionComponents`): the checks and messages git-annex gives for
 * unknown repositories and remotes, the git pulls and pushes that take
 * effect as soon as an action is made (not when its components run), and
 * the per-file components, interleaved at random for `while`.
 */

import type { ActionGroup } from "./actions.js";
import type { RepoName, SimAction } from "./commands.js";
import { SimError } from "./errors.js";
import { randomBool, simRandom } from "./random.js";
import { codePointOrder, type SimState } from "./state.js";

/** checkKnownRepo: a repository or cluster node name to its id. */
export function knownRepo(st: SimState, name: RepoName): number {
  const id = st.lookupRepo(name);
  if (id !== undefined) return id;
  const names = [...st.repoByName.keys()].sort(codePointOrder).join(" ");
  throw new SimError(`No repository in the simulation is named "${name}". Choose from: ${names}`, {
    repo: name,
  });
}

/** checkKnownRepoNotSpecialRemote. */
export function knownGitRepo(st: SimState, name: RepoName): number {
  const id = knownRepo(st, name);
  if (st.repo(id).special) {
    throw new SimError(`${name} is a special remote, so git-annex cannot run on it.`, {
      repo: name,
    });
  }
  return id;
}

/** checkKnownRemote: `remote` must be a remote of `repo` (id `u`), then a known repository. */
export function knownRemote(st: SimState, remote: string, repo: RepoName, u: number): number {
  if (!st.connections[u]?.has(remote)) {
    throw new SimError(`Repository ${repo} does not have a remote "${remote}".`, { repo, remote });
  }
  return knownRepo(st, remote);
}

/** simulateGitAnnexMerge: `dest` merges `src`'s git-annex branch (names of simRepos only). */
export function gitAnnexMerge(st: SimState, src: RepoName, dest: RepoName): void {
  const s = st.repoByName.get(src);
  const d = st.repoByName.get(dest);
  if (s === undefined || d === undefined) {
    throw new SimError(`Unable to find ${src} or ${dest} in simRepos`, { src, dest });
  }
  st.views.merge(s, d);
}

/** A component: an action group and the index of a file in it. */
export type Component = readonly [ActionGroup, number];

function overFiles(group: ActionGroup): Component[] {
  return group.files.map((_, i) => [group, i] as const);
}

/** The group of a getwanted/sendwanted (overFilesRemote). */
export function remoteGroup(
  st: SimState,
  kind: "getwanted" | "sendwanted",
  repoName: RepoName,
  remoteName: string,
): ActionGroup {
  const repo = knownGitRepo(st, repoName);
  const remote = knownRemote(st, remoteName, repoName, repo);
  return { kind, repo, repoName, remote, remoteName, files: st.sortedFiles() };
}

/** The group of a dropunwanted (simulateDropUnwanted): from the repository itself, or from a remote. */
export function dropGroup(
  st: SimState,
  repoName: RepoName,
  remoteName: string | null,
): ActionGroup {
  const repo = remoteName === null ? knownGitRepo(st, repoName) : knownRepo(st, repoName);
  const from = remoteName === null ? repo : knownRemote(st, remoteName, repoName, repo);
  const remotes = new Set<number>();
  for (const name of st.connections[repo] ?? []) {
    // Only names of repositories count (a cluster node's name does not).
    const id = st.repoByName.get(name);
    if (id !== undefined) remotes.add(id);
  }
  return {
    kind: "dropunwanted",
    repo,
    from,
    fromName: remoteName ?? repoName,
    remotes,
    files: st.sortedFiles(),
  };
}

/** The actions pull, push and sync stand for (Sim.hs), in order. */
function sequenceOf(kind: "pull" | "push" | "sync", repo: RepoName, remote: string): SimAction[] {
  const gitpull: SimAction = { kind: "gitpull", repo, remote };
  const gitpush: SimAction = { kind: "gitpush", repo, remote };
  const getwanted: SimAction = { kind: "getwanted", repo, remote };
  const sendwanted: SimAction = { kind: "sendwanted", repo, remote };
  const dropLocal: SimAction = { kind: "dropunwanted", repo, remote: null };
  const dropRemote: SimAction = { kind: "dropunwanted", repo, remote };
  switch (kind) {
    case "pull":
      return [gitpull, getwanted, dropLocal];
    case "push":
      return [sendwanted, dropRemote, gitpush];
    case "sync":
      return [gitpull, getwanted, sendwanted, dropRemote, gitpush];
  }
}

/** Sim.hs `mingle`: interleaves two component lists by coin flips from the sim's seed. */
function mingle(st: SimState, as: Component[], bs: Component[]): Component[] {
  const out: Component[] = [];
  let i = 0;
  let j = 0;
  while (i < as.length && j < bs.length) {
    const [heads, next] = simRandom(st.seed, randomBool);
    st.seed = next;
    out.push((heads ? as[i++] : bs[j++]) as Component);
  }
  while (i < as.length) out.push(as[i++] as Component);
  while (j < bs.length) out.push(bs[j++] as Component);
  return out;
}

/**
 * getSimActionComponents: the components of an action, in the order git
 * runs them; git pulls and pushes happen now. Throws SimError as git-annex
 * refuses an action.
 */
export function actionComponents(st: SimState, act: SimAction): Component[] {
  switch (act.kind) {
    case "getwanted":
    case "sendwanted":
      return overFiles(remoteGroup(st, act.kind, act.repo, act.remote));
    case "dropunwanted":
      return overFiles(dropGroup(st, act.repo, act.remote));
    case "gitpush":
    case "gitpull": {
      const u = knownGitRepo(st, act.repo);
      knownRemote(st, act.remote, act.repo, u);
      if (act.kind === "gitpush") gitAnnexMerge(st, act.repo, act.remote);
      else gitAnnexMerge(st, act.remote, act.repo);
      return [];
    }
    case "while": {
      const as = actionComponents(st, act.first);
      const bs = actionComponents(st, act.second);
      return mingle(st, as, bs);
    }
    case "pull":
    case "push":
    case "sync":
      return sequenceOf(act.kind, act.repo, act.remote).flatMap((a) => actionComponents(st, a));
  }
}

/**
 * The groups of one sync of `repo` with `remote` for a step, git pull and
 * push done; null when git-annex's sync action would fail (a remote that
 * is not a repository of the sim, such as a cluster node's name), in which
 * case nothing happens, as git-annex skips it.
 */
export function syncGroups(
  st: SimState,
  repoName: RepoName,
  remoteName: string,
): ActionGroup[] | null {
  try {
    const u = knownGitRepo(st, repoName);
    knownRemote(st, remoteName, repoName, u);
    if (!st.repoByName.has(remoteName)) return null;
    gitAnnexMerge(st, remoteName, repoName);
    const groups = [
      remoteGroup(st, "getwanted", repoName, remoteName),
      remoteGroup(st, "sendwanted", repoName, remoteName),
      dropGroup(st, repoName, remoteName),
    ];
    gitAnnexMerge(st, repoName, remoteName);
    return groups;
  } catch (e) {
    if (e instanceof SimError) return null;
    throw e;
  }
}
