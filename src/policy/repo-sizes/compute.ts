/**
 * Repository sizes from the location logs of the git-annex branch
 * (Annex/RepoSize.hs): a full computation over every location log of one
 * branch commit, an incremental one from the difference between two
 * commits, and the overlay of journalled (not yet committed) changes.
 * Location logs are read through one long-lived `git cat-file --batch`;
 * no process is started per key.
 */
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { branchPathOf, presentUuids } from "../../branch/index.js";
import { CatFileBatch, type Git, GitError } from "../../git/index.js";
import { locationLogKeySize, presentRepos } from "./location-logs.js";
import { accountKey, type RepoSizes } from "./sizes-map.js";

/** Options for computing sizes. */
export interface ComputeOptions {
  /** Told how many location logs have been read so far, now and then. */
  readonly onProgress?: (logsRead: number) => void;
}

/** Location logs read per round trip to cat-file. */
const BATCH = 2000;
/** Parsed logs remembered by blob id (keys added together share a log blob). */
const MEMO_LIMIT = 50_000;

/** Reads location logs by blob id, remembering recent answers. */
class LogReader {
  readonly #cat: CatFileBatch;
  readonly #memo = new Map<string, string[]>();

  constructor(git: Git) {
    this.#cat = new CatFileBatch(git);
  }

  async present(sha: string | null): Promise<string[]> {
    if (sha === null) return [];
    const known = this.#memo.get(sha);
    if (known !== undefined) return known;
    const blob = await this.#cat.get(sha);
    const repos = blob === null ? [] : presentRepos(presentUuids(blob.toString("utf8")));
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(sha, repos);
    return repos;
  }

  close(): Promise<void> {
    return this.#cat.close();
  }
}

interface TreeFile {
  readonly path: string;
  readonly sha: string;
}

/** Streams the blobs of a tree, recursively (`git ls-tree -r -z`). */
async function* treeFiles(git: Git, treeish: string): AsyncGenerator<TreeFile> {
  const args = ["ls-tree", "-r", "-z", "--full-tree", treeish];
  const child = spawn("git", args, {
    cwd: git.dir,
    env: git.environment(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr = (stderr + b.toString("utf8")).slice(-4096);
  });
  let failure: unknown = null;
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", (err) => {
      failure = err;
      resolve(null);
    });
    child.once("close", (code) => resolve(code));
  });
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let buf: Buffer = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      for (;;) {
        const nul = buf.indexOf(0);
        if (nul < 0) break;
        // "<mode> <type> <sha>\t<path>"
        const entry = buf.toString("utf8", 0, nul);
        buf = buf.subarray(nul + 1);
        const tab = entry.indexOf("\t");
        const [, type, sha] = entry.slice(0, tab).split(" ");
        if (type === "blob" && sha !== undefined) yield { path: entry.slice(tab + 1), sha };
      }
      rest = buf;
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited;
  if (code !== 0) {
    throw new GitError(
      `git ls-tree failed: ${stderr.trim()}`,
      { args, exitCode: code, stderr },
      failure ?? undefined,
    );
  }
}

/**
 * The sizes every repository has according to the location logs of one
 * commit of the git-annex branch, journal not included (git-annex
 * `calcBranchRepoSizes`). Only repositories with at least one key logged
 * present are in the map; keys without a size count 0 bytes; cluster
 * UUIDs never count.
 *
 * @example
 * const sizes = await computeRepoSizes(git, await git.revParse("refs/heads/git-annex"));
 */
export async function computeRepoSizes(
  git: Git,
  commit: string,
  opts: ComputeOptions = {},
): Promise<RepoSizes> {
  const sizes: RepoSizes = new Map();
  const reader = new LogReader(git);
  let read = 0;
  try {
    let batch: { size: bigint | null; sha: string }[] = [];
    const flush = async () => {
      const found = await Promise.all(batch.map((e) => reader.present(e.sha)));
      batch.forEach((e, i) => {
        accountKey(sizes, e.size, [], found[i] ?? []);
      });
      read += batch.length;
      batch = [];
      opts.onProgress?.(read);
    };
    for await (const f of treeFiles(git, commit)) {
      const size = locationLogKeySize(f.path);
      if (size === undefined) continue;
      batch.push({ size, sha: f.sha });
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } finally {
    await reader.close();
  }
  return sizes;
}

/**
 * Moves sizes computed at branch commit `from` to commit `to`, reading
 * only the location logs that differ between the two trees (git-annex
 * `diffBranchRepoSizes`). Works for any two commits (merges, rewritten
 * history), since sizes depend on the tree alone. Returns a new map.
 */
export async function updateRepoSizes(
  git: Git,
  sizes: ReadonlyMap<string, bigint>,
  from: string,
  to: string,
  opts: ComputeOptions = {},
): Promise<RepoSizes> {
  const next: RepoSizes = new Map(sizes);
  if (from === to) return next;
  const changed = (await git.diffTrees(from, to)).flatMap((d) => {
    const size = locationLogKeySize(d.path);
    return size === undefined ? [] : [{ size, oldSha: d.oldSha, newSha: d.newSha }];
  });
  const reader = new LogReader(git);
  try {
    for (let i = 0; i < changed.length; i += BATCH) {
      const batch = changed.slice(i, i + BATCH);
      const found = await Promise.all(
        batch.map(async (c) => [await reader.present(c.oldSha), await reader.present(c.newSha)]),
      );
      batch.forEach((c, j) => {
        const [before = [], after = []] = found[j] ?? [];
        accountKey(next, c.size, before, after);
      });
      opts.onProgress?.(i + batch.length);
    }
  } finally {
    await reader.close();
  }
  return next;
}

/** A journal file's content without an interrupted last line. */
function completeLines(b: Buffer): string {
  const nl = b.lastIndexOf(0x0a);
  return b.toString("utf8", 0, nl + 1);
}

/**
 * Adds to sizes computed at `commit` the location log changes that are
 * in the journal but not yet committed (git-annex
 * `calcJournalledRepoSizes`). Returns a new map.
 */
export async function addJournalledChanges(
  git: Git,
  sizes: ReadonlyMap<string, bigint>,
  commit: string | null,
): Promise<RepoSizes> {
  const next: RepoSizes = new Map(sizes);
  const dir = join(git.gitDir, "annex", "journal");
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const logs = names.flatMap((name) => {
    const path = branchPathOf(name);
    const size = locationLogKeySize(path);
    return size === undefined ? [] : [{ name, path, size }];
  });
  if (logs.length === 0) return next;
  const cat = new CatFileBatch(git);
  try {
    for (const l of logs) {
      const journalled = await readFile(join(dir, l.name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT" || err.code === "EISDIR") return null;
        throw err;
      });
      if (journalled === null) continue;
      const committed = commit === null ? null : await cat.get(`${commit}:${l.path}`);
      const before =
        committed === null ? [] : presentRepos(presentUuids(committed.toString("utf8")));
      const after = presentRepos(presentUuids(completeLines(journalled)));
      accountKey(next, l.size, before, after);
    }
  } finally {
    await cat.close();
  }
  return next;
}
