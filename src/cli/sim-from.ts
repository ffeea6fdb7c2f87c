/**
 * `--from REPO` for `annexgate sim run` and `sim report`: a real
 * repository's current state as a sim's start (Sim.startFrom): every
 * repository it knows and does not know as dead, with its groups, trust,
 * wanted, required and maxsize; groupwanted, numcopies and mincopies;
 * its annexed files (its index, or HEAD's tree when bare) where its
 * location logs put them; and a remote from it to each of its git
 * remotes.
 *
 * Names, as a sim file must spell them: the repository itself is `here`,
 * a repository it has a git remote for is named as that remote, any other
 * by its description (spaces made dashes), else by its UUID.
 */
import {
  AnnexBranch,
  locationLogPath,
  MINCOPIES_LOG,
  NUMCOPIES_LOG,
  presentUuids,
  readCopies,
  readDeadUuids,
} from "../branch/index.js";
import { Git } from "../git/index.js";
import { formatKey, isClusterUuid } from "../keys/index.js";
import type { RealState } from "../sim/index.js";
import { repositoryNames } from "./repositories.js";
import { listAnnexedFiles } from "./sim-tree.js";
import { existingRepoOf, readBranchConfigs } from "./sim-use.js";
import { UsageError } from "./usage.js";

/** A name no other repository has, usable in a sim file. */
function simName(wanted: string, taken: Set<string>): string {
  const base = wanted.replace(/\s+/g, "-").replace(/^-+|-+$/g, "") || "repository";
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

export async function readRealState(repoDir: string): Promise<RealState> {
  let git: Git;
  try {
    git = await Git.open(repoDir);
  } catch {
    throw new UsageError(`--from ${repoDir}: not a git repository`);
  }
  const branch = await AnnexBranch.open(git);
  try {
    const names = await repositoryNames(git, branch);
    if (names.here === "") throw new UsageError(`--from ${repoDir}: not a git-annex repository`);
    const dead = await readDeadUuids(branch);
    const remoteOf = new Map<string, string>();
    for (const [remote, uuid] of names.remotes) remoteOf.set(uuid, remote);
    const uuids = new Set([names.here, ...names.logged.keys(), ...names.remotes.values()]);
    const configs = await readBranchConfigs(branch);
    const taken = new Set<string>(["here"]);
    const nameOf = new Map<string, string>();
    const repos: RealState["repos"][number][] = [];
    for (const uuid of [...uuids].sort()) {
      if (dead.has(uuid) || isClusterUuid(uuid)) continue;
      const name =
        uuid === names.here
          ? "here"
          : simName(remoteOf.get(uuid) ?? names.logged.get(uuid) ?? uuid, taken);
      nameOf.set(uuid, name);
      // An empty expression or a maxsize of 0 is how git-annex unsets one.
      const { wanted, required, maxSize, ...rest } = existingRepoOf(configs, uuid);
      repos.push({
        ...rest,
        name,
        groupWanted: new Map(),
        ...(wanted !== undefined && wanted !== "" ? { wanted } : {}),
        ...(required !== undefined && required !== "" ? { required } : {}),
        ...(maxSize !== undefined && maxSize > 0 ? { maxSize } : {}),
      });
    }
    const connections = [...names.remotes]
      .filter(([, uuid]) => nameOf.has(uuid) && uuid !== names.here)
      .map(([, uuid]) => ({ repo: "here", remote: nameOf.get(uuid) as string }));
    const files: { file: string; key: string; holders: string[] }[] = [];
    for (const { path, key } of await listAnnexedFiles(git)) {
      const holders = presentUuids(await branch.read(locationLogPath(key)));
      files.push({ file: path, key: formatKey(key), holders });
    }
    return {
      repos,
      groupWanted: configs.groupWanted,
      numcopies: (await readCopies(branch, NUMCOPIES_LOG)) ?? 1,
      mincopies: (await readCopies(branch, MINCOPIES_LOG)) ?? 1,
      connections,
      files,
    };
  } finally {
    await branch.close();
  }
}
