/**
 * What the commands share: opening the repository here (refusing as
 * git-annex does outside a git repository, or before `init` when the
 * command needs a UUID), and writing errors and JSON results the way
 * git-annex does.
 */
import { AnnexBranch } from "../branch/index.js";
import { Git } from "../git/index.js";
import { UsageError } from "./usage.js";

/** The repository a command runs in. */
export interface Here {
  readonly git: Git;
  readonly branch: AnnexBranch;
  /** This repository's annex.uuid; "" when it has none and the command allowed that. */
  readonly uuid: string;
}

/** How a command opens the repository here. */
export interface OpenOptions {
  /** Refuse a repository without annex.uuid (git-annex: "First run: git-annex init"). Default true. */
  readonly needsUuid?: boolean;
  /** Runs after the git repository is found and before its branch is opened. */
  readonly beforeBranch?: (git: Git) => Promise<void>;
}

/** For commands that also work in a repository git-annex has not initialised. */
export const NO_UUID_NEEDED: OpenOptions = { needsUuid: false };

/** The git repository of the current directory. */
export async function openGitHere(): Promise<Git> {
  try {
    return await Git.open(process.cwd());
  } catch {
    throw new UsageError("Not in a git repository.");
  }
}

/**
 * Opens the repository here and its git-annex branch for `f`, closing the
 * branch (which commits what `f` journalled) after.
 *
 * @example
 * return withRepository(async (here) => { await recordTrust(here.branch, here.uuid, "trusted"); return 0; });
 */
export async function withRepository<T>(
  f: (here: Here) => Promise<T>,
  opts: OpenOptions = {},
): Promise<T> {
  const git = await openGitHere();
  const uuid = (await git.configGet("annex.uuid")) ?? "";
  if (uuid === "" && opts.needsUuid !== false) throw new UsageError("First run: git-annex init");
  await opts.beforeBranch?.(git);
  const branch = await AnnexBranch.open(git);
  try {
    return await f({ git, branch, uuid });
  } finally {
    await branch.close();
  }
}

/** An error message as annexgate prints one ("annexgate: ..." on stderr). */
export function printError(message: string): void {
  process.stderr.write(`annexgate: ${message}\n`);
}

/** One JSON result line, big integers written as JSON numbers as git-annex writes them. */
export function writeJson(o: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))}\n`,
  );
}
