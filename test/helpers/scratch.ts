/**
 * Scratch git repositories for a test file: a temp directory made before
 * the file's tests and removed after them, and fresh `git init`
 * repositories in it, one per call.
 */
import { join } from "node:path";
import { after, before } from "node:test";
import { makeTempDir, removeDir, run } from "./index.js";

export interface ScratchRepoOptions {
  /** A bare repository (default true). */
  readonly bare?: boolean;
}

/**
 * Registers the temp directory's hooks (call it at the top level of a test
 * file) and returns the maker of repositories; each returns its directory.
 *
 * @example
 * const newRepoDir = scratchGitRepos();
 * it("...", async () => { const git = await Git.open(await newRepoDir()); });
 */
export function scratchGitRepos(): (opts?: ScratchRepoOptions) => Promise<string> {
  let tmp: string | undefined;
  let counter = 0;
  before(async () => {
    tmp = await makeTempDir();
  });
  after(async () => {
    if (tmp !== undefined) await removeDir(tmp);
  });
  return async ({ bare = true } = {}) => {
    if (tmp === undefined) throw new Error("scratchGitRepos: used before its before() hook ran");
    counter += 1;
    const dir = join(tmp, `r${counter}${bare ? ".git" : ""}`);
    await run("git", ["init", "-q", ...(bare ? ["--bare"] : []), dir]);
    return dir;
  };
}
