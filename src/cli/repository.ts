/**
 * Opening the repository here for the configuration commands, and naming
 * repositories as git-annex does (Remote.hs `nameToUUID`): "here" or "."
 * is this repository, then a git remote's name, then a description in
 * uuid.log, then a UUID listed in uuid.log.
 */
import { AnnexBranch, readUuidDescriptions } from "../branch/index.js";
import { Git } from "../git/index.js";
import { UsageError } from "./usage.js";

export interface Here {
  readonly git: Git;
  readonly branch: AnnexBranch;
  readonly uuid: string;
}

/** Runs `f` with the repository here and its branch, committing the branch after. */
export async function withRepository<T>(f: (here: Here) => Promise<T>): Promise<T> {
  let git: Git;
  try {
    git = await Git.open(process.cwd());
  } catch {
    throw new UsageError("Not in a git repository.");
  }
  const uuid = await git.configGet("annex.uuid");
  if (uuid === null || uuid === "") throw new UsageError("First run: git-annex init");
  const branch = await AnnexBranch.open(git);
  try {
    return await f({ git, branch, uuid });
  } finally {
    await branch.close();
  }
}

/** The UUID a repository name stands for. */
export async function nameToUuid(here: Here, name: string): Promise<string> {
  if (name === "." || name === "here") return here.uuid;
  const remote = /^[^\s\\]+$/.test(name)
    ? await here.git.configGet(`remote.${name}.annex-uuid`)
    : null;
  if (remote !== null && remote !== "") return remote;
  const descriptions = await readUuidDescriptions(here.branch);
  const byDescription = [...descriptions].filter(([, d]) => d === name).map(([u]) => u);
  if (byDescription.length > 1) {
    throw new UsageError(
      "found multiple repositories with that description (use the uuid instead to disambiguate)",
    );
  }
  if (byDescription[0] !== undefined) return byDescription[0];
  if (descriptions.has(name)) return name;
  throw new UsageError(`there is no available git remote named ${JSON.stringify(name)}`);
}
