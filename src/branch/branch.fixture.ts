/** For tests that write a git-annex branch from scratch, before anything opens the repository. */
import { run } from "../../test/helpers/index.js";
import { Git } from "../git/index.js";
import { AnnexBranch } from "./branch.js";
import { initRepository } from "./init.js";

/** `git init` at `dir`, then git-annex's initialisation with this UUID and description; the branch open. */
export async function newAnnexBranch(
  dir: string,
  uuid: string,
  description: string,
): Promise<{ git: Git; branch: AnnexBranch }> {
  await run("git", ["init", "-q", dir]);
  const git = await Git.open(dir);
  await initRepository(git, { uuid, description });
  return { git, branch: await AnnexBranch.open(git) };
}
