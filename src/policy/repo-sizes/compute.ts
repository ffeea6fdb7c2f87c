/**
 * Repository sizes from the location logs of the git-annex branch
 * (Annex/RepoSize.hs): a full computation over every location log of one
 * branch commit, an incremental one from the difference between two
 * commits, and the overlay of journalled (not yet committed) changes.
 * Location logs are read through one long-lived `git cat-file --batch`;
 * no process is started per key.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { presentUuids, readJournalDir } from "../../branch/index.js";
import { CatFileBatch, type Git, GitError } from "../../git/index.js";
import { writeOrDrop } from "../../util/index.js";
import { locationLogKeySize, presentRepos } from "./location-logs.js";
import { accountKey, type RepoSizes } from "./sizes-map.js";

/** Options for computing sizes. */
export interface ComputeOptions {
  /** Told how many location logs have been read so far, now and then. */
  readonly onProgress?: (logsRead: number) => void;
}

/** Location logs read per round trip to cat-file (incremental updates). */
const BATCH = 2000;
/** How often a full computation reports progress, in location logs. */
const PROGRESS_EVERY = 1000;
/** Parsed logs remembered by blob id (keys added together share a log blob). */
const MEMO_LIMIT = 4096;

const SIMPLE_LINE = /^[^ \r\n]+ ([01X]) ([^\r\n]*)$/;

/**
 * The UUIDs a location log says are present. Most logs have one line per
 * UUID, where no clocks need comparing; those are read directly, and any
 * other log goes through the full presence-log parser.
 */
export function presentInLog(text: string): string[] {
  const lines = text.split("\n");
  const seen = new Set<string>();
  const present: string[] = [];
  for (const line of lines) {
    if (line === "") continue;
    const m = SIMPLE_LINE.exec(line);
    const uuid = m?.[2];
    if (
      m === null ||
      uuid === undefined ||
      seen.has(uuid) ||
      !/^\d+(?:\.\d+)?s?$/.test(line.slice(0, line.indexOf(" ")))
    ) {
      return presentUuids(text);
    }
    seen.add(uuid);
    if (m[1] === "1") present.push(uuid);
  }
  return present;
}

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
    const repos = blob === null ? [] : presentRepos(presentInLog(blob.toString("utf8")));
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

/** git in the repository; `stderr` gives the last 4 KiB it wrote there, for an error. */
function spawnGit(
  git: Git,
  args: readonly string[],
): { child: ChildProcessWithoutNullStreams; stderr: () => string } {
  const child = spawn("git", args, {
    cwd: git.dir,
    env: git.environment(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let tail = "";
  child.stderr.on("data", (b: Buffer) => {
    tail = (tail + b.toString("utf8")).slice(-4096);
  });
  // A git that exits before reading all it is fed: its exit status tells.
  child.stdin.on("error", () => {});
  return { child, stderr: () => tail };
}

/** Streams the blobs of a tree, recursively (`git ls-tree -r -z`). */
async function* treeFiles(git: Git, treeish: string): AsyncGenerator<TreeFile> {
  const args = ["ls-tree", "-r", "-z", "--full-tree", treeish];
  const { child, stderr } = spawnGit(git, args);
  child.stdin.end();
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
      `git ls-tree failed: ${stderr().trim()}`,
      { args, exitCode: code, stderr: stderr() },
      failure ?? undefined,
    );
  }
}

/** A blob's content, or null when git has no such object. */
interface Blob<T> {
  readonly tag: T;
  readonly content: Buffer | null;
}

const BLOB_HEADER = /^[0-9a-f]+ (\S+) (\d+)$/;

/** Feeds blob ids to a cat-file batch as the reader wants them; `error` is final once `done`. */
interface Feeder {
  readonly done: Promise<void>;
  readonly feeding: boolean;
  readonly error: unknown;
}

/** Writes each wanted id to `stdin` (with backpressure), noting its tag in `tags`; stops on `stop`. */
function feedIds<T>(
  wanted: AsyncIterable<{ sha: string; tag: T }>,
  tags: T[],
  stdin: Writable,
  stop: AbortSignal,
): Feeder {
  const state = { feeding: true, error: null as unknown, done: Promise.resolve() };
  state.done = (async () => {
    try {
      for await (const w of wanted) {
        tags.push(w.tag);
        await writeOrDrop(stdin, `${w.sha}\n`);
        // Stopped early (the reader is gone, git killed): feed no more.
        if (stop.aborted || stdin.destroyed) break;
      }
    } catch (err) {
      if (!stop.aborted) state.error = err;
    } finally {
      state.feeding = false;
      stdin.end();
    }
  })();
  return state;
}

/**
 * Reads many blobs through one `git cat-file --batch --buffer`, in the
 * order they are asked for, feeding ids while answers stream back. Each
 * side waits for the other (pipe backpressure), so memory stays bounded
 * whatever the number of blobs.
 */
async function* readBlobs<T>(
  git: Git,
  wanted: AsyncIterable<{ sha: string; tag: T }>,
): AsyncGenerator<Blob<T>> {
  const args = ["cat-file", "--batch", "--buffer"];
  const { child, stderr } = spawnGit(git, args);
  const tags: T[] = [];
  let head = 0;
  const stop = new AbortController();
  const feeder = feedIds(wanted, tags, child.stdin, stop.signal);
  let buf: Buffer = Buffer.alloc(0);
  let bodyLen = -1;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        if (bodyLen < 0) {
          const nl = buf.indexOf(0x0a);
          if (nl < 0) break;
          const header = buf.toString("utf8", 0, nl);
          buf = buf.subarray(nl + 1);
          const m = BLOB_HEADER.exec(header);
          if (m !== null) {
            bodyLen = Number(m[2]) + 1;
            continue;
          }
          yield { tag: tags[head++] as T, content: null };
        } else {
          if (buf.length < bodyLen) break;
          const content = Buffer.from(buf.subarray(0, bodyLen - 1));
          buf = buf.subarray(bodyLen);
          bodyLen = -1;
          yield { tag: tags[head++] as T, content };
        }
        if (head > 65536) {
          tags.splice(0, head);
          head = 0;
        }
      }
    }
  } finally {
    if (child.exitCode === null && (feeder.feeding || head < tags.length)) {
      // the reader stopped early: stop feeding and reading
      stop.abort();
      child.kill();
    }
    await feeder.done;
  }
  if (feeder.error !== null) throw feeder.error;
  const code = child.exitCode ?? (await once(child, "close"))[0];
  if (code !== 0 || head !== tags.length) {
    throw new GitError(`git cat-file --batch failed: ${stderr().trim()}`, {
      args,
      exitCode: typeof code === "number" ? code : null,
      stderr: stderr(),
    });
  }
}

/**
 * The sizes every repository has according to the location logs of one
 * commit of the git-annex branch, journal not included (git-annex
 * `calcBranchRepoSizes`). Only repositories with at least one key logged
 * present are in the map; keys without a size count 0 bytes; cluster
 * UUIDs never count. One `git ls-tree` lists the logs and one
 * `git cat-file --batch` reads them, both streamed.
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
  async function* logs(): AsyncGenerator<{ sha: string; tag: bigint | null }> {
    for await (const f of treeFiles(git, commit)) {
      const size = locationLogKeySize(f.path);
      if (size !== undefined) yield { sha: f.sha, tag: size };
    }
  }
  let read = 0;
  for await (const blob of readBlobs(git, logs())) {
    const present =
      blob.content === null ? [] : presentRepos(presentInLog(blob.content.toString("utf8")));
    accountKey(sizes, blob.tag, [], present);
    read += 1;
    if (read % PROGRESS_EVERY === 0) opts.onProgress?.(read);
  }
  opts.onProgress?.(read);
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
 * `calcJournalledRepoSizes`). The committed versions are asked of one
 * `git cat-file --batch` a batch at a time, pipelined, not one round trip
 * per key. Returns a new map, and how many journalled location logs it
 * read.
 */
export async function withJournalledChanges(
  git: Git,
  sizes: ReadonlyMap<string, bigint>,
  commit: string | null,
): Promise<{ sizes: RepoSizes; logsRead: number }> {
  const next: RepoSizes = new Map(sizes);
  const journal = await readJournalDir(join(git.gitDir, "annex", "journal"));
  const logs = [...journal].flatMap(([path, raw]) => {
    const size = locationLogKeySize(path);
    return size === undefined ? [] : [{ path, raw, size }];
  });
  if (logs.length === 0) return { sizes: next, logsRead: 0 };
  const cat = new CatFileBatch(git);
  try {
    for (let i = 0; i < logs.length; i += BATCH) {
      const batch = logs.slice(i, i + BATCH);
      const committed = await Promise.all(
        batch.map((l) => (commit === null ? null : cat.get(`${commit}:${l.path}`))),
      );
      batch.forEach((l, j) => {
        const old = committed[j];
        const before = old == null ? [] : presentRepos(presentInLog(old.toString("utf8")));
        const after = presentRepos(presentInLog(completeLines(l.raw)));
        accountKey(next, l.size, before, after);
      });
    }
  } finally {
    await cat.close();
  }
  return { sizes: next, logsRead: logs.length };
}
