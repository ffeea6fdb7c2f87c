/**
 * `initRepository`: the part of `git annex init` a server repository
 * needs, done with git and Node alone (Annex/Init.hs `initialize`).
 *
 * Done, as git-annex does it:
 * - annex.uuid (kept when already set) and annex.version=10 (kept when 10);
 * - the git-annex branch (from origin/git-annex when that exists);
 * - the repository's description in uuid.log (not overwritten with a
 *   default when one is already recorded), committed;
 * - `annex/` with `journal/`, and the inode sentinal files git-annex uses
 *   to notice a repository copied to other inodes.
 *
 * Left out on purpose, because each would need the git-annex program on
 * the machine, or only matters for a work tree in daily use:
 * - the hooks (pre-commit, post-receive, post-checkout, post-merge) and
 *   the smudge/clean filter config (filter.annex.*, `* filter=annex` in
 *   info/attributes): all of them run `git-annex`, so on a gateway without
 *   it they would break `git commit`/`git checkout` in a work tree;
 * - the crippled filesystem, fcntl lock and fifo probes (and the
 *   annex.crippledfilesystem / annex.pidlock settings they can lead to):
 *   serve repositories from a POSIX filesystem with working locks;
 * - annex.tune.* differences and shared-clone handling.
 * Running stock `git annex init` in the repository later is safe: it keeps
 * the UUID and description and adds what is missing.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { homedir, hostname, userInfo } from "node:os";
import { join, relative, sep } from "node:path";
import type { Git } from "../git/index.js";
import { genUuid, parseUuid } from "../keys/index.js";
import { AnnexBranch } from "./branch.js";
import { BranchError } from "./errors.js";
import { readUuidDescriptions, setUuidDescription } from "./logs/uuid.js";

/** The repository version annexgate writes and understands. */
export const ANNEX_VERSION = "10";

export interface InitOptions {
  /**
   * Description for uuid.log. When omitted, an existing description is
   * kept, else one like git-annex's default is made ("user@host:~/path").
   */
  readonly description?: string;
  /** The UUID to give the repository; a new random one when omitted. */
  readonly uuid?: string;
}

export interface InitResult {
  readonly uuid: string;
  readonly description: string;
}

/**
 * Initialises `git`'s repository (bare or not) for git-annex, as
 * `git annex init [DESCRIPTION]` would for serving it. Idempotent.
 * Throws BranchError AG_BRANCH_INIT when the repository already has a
 * different UUID than asked for, or a repository version other than 10.
 *
 * @example
 * const git = await Git.open("/srv/annex/photos.git");
 * const { uuid } = await initRepository(git, { description: "gateway" });
 */
export async function initRepository(git: Git, opts: InitOptions = {}): Promise<InitResult> {
  const current = await git.configGet("annex.uuid");
  if (opts.uuid !== undefined) parseUuid(opts.uuid);
  if (current !== null && current !== "" && opts.uuid !== undefined && opts.uuid !== current) {
    throw new BranchError("AG_BRANCH_INIT", `repository already has annex.uuid ${current}`, {
      uuid: current,
      wanted: opts.uuid,
    });
  }
  const version = await git.configGet("annex.version");
  if (version !== null && version !== ANNEX_VERSION) {
    throw new BranchError(
      "AG_BRANCH_INIT",
      `repository has annex.version ${version}; annexgate needs ${ANNEX_VERSION} (upgrade with git annex upgrade)`,
      { version },
    );
  }

  const annexDir = join(git.gitDir, "annex");
  await mkdir(join(annexDir, "journal"), { recursive: true });

  const branch = await AnnexBranch.open(git);
  try {
    const uuid = current !== null && current !== "" ? current : (opts.uuid ?? genUuid());
    if (current !== uuid) await git.configSet("annex.uuid", uuid);
    if (version === null) await git.configSet("annex.version", ANNEX_VERSION);
    await writeSentinal(annexDir);

    const known = (await readUuidDescriptions(branch)).get(uuid);
    let description = known ?? defaultDescription(git.dir);
    if (opts.description !== undefined) description = opts.description;
    if (opts.description !== undefined || known === undefined) {
      await setUuidDescription(branch, uuid, description);
    }
    await branch.commit("update");
    return { uuid, description };
  } finally {
    await branch.close();
  }
}

/** git-annex's default description: "user@host:path", the path "~/"-relative when under home. */
function defaultDescription(repoPath: string): string {
  let path = repoPath;
  const home = homedir();
  const rel = relative(home, repoPath);
  if (home !== "" && rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep)) {
    path = `~/${rel}`;
  }
  let user = "";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry: git-annex then leaves the user out too
  }
  const host = hostname();
  const at = host === "" ? "" : "@";
  return user === "" ? `${host}:${path}` : `${user}${at}${host}:${path}`;
}

/**
 * The inode sentinal (Annex/InodeSentinal.hs): an empty file, and a cache
 * of its inode, size and mtime. Only made in a repository without objects,
 * and never replaced, as git-annex does.
 */
async function writeSentinal(annexDir: string): Promise<void> {
  const file = join(annexDir, "sentinal");
  const cache = join(annexDir, "sentinal.cache");
  if ((await exists(file)) || (await exists(join(annexDir, "objects")))) return;
  await writeFile(file, "");
  const st = await stat(file, { bigint: true });
  const secs = st.mtimeNs / 1_000_000_000n;
  const nanos = (st.mtimeNs % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  await writeFile(cache, `${st.ino} ${st.size} ${secs} ${nanos}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
