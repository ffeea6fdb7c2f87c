/**
 * Files of a commit read through a long-lived `cat-file --batch`, walking
 * the trees here. Asked `<commit>:<path>`, git walks from the root tree
 * and inflates every tree on the way for each question; the git-annex
 * branch's root tree holds up to 4,096 entries, and that walk cost git
 * about 170 µs a question where the blob alone costs about 30 µs
 * (measured on the 2-core development machine, 1,000 location logs).
 * Here each tree is parsed once and kept while it is used: trees are
 * named by their content, so a kept tree is never stale, and a missing
 * file is known without asking git at all.
 */

import { GenerationalCache, SharedFlight } from "../util/index.js";
import type { CatFileBatch } from "./cat-file.js";
import { GitError } from "./errors.js";

/** One entry of a parsed tree: whether it is a tree, and its object id. */
interface Entry {
  readonly isTree: boolean;
  readonly sha: string;
}

/** The type bits of a mode; git reads the octal mode as a number (040000 and 40755 are trees too). */
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** Entries kept over all cached trees, by default: about 20 MB. */
const DEFAULT_MAX_ENTRIES = 100_000;
/**
 * Blobs kept, by their bytes (plus a little for the entry): location logs
 * and the other small logs, read again and again while a key is being
 * moved (checkpresent, putoffset, put) and by every question about it.
 * A blob is named by its content, so a kept one is never stale either.
 */
const BLOB_BUDGET_BYTES = 4 * 1024 * 1024;
/** Larger blobs are not kept: they are read rarely, and would push out many small ones. */
const MAX_KEPT_BLOB = 16 * 1024;
const BLOB_ENTRY_BYTES = 200;
/** Commits whose tree id is kept. */
const MAX_COMMITS = 64;

const COMMIT_TREE = /^tree ([0-9a-f]{40}|[0-9a-f]{64})\n/;
const ASCII = /^[\x00-\x7f]*$/;

export class TreeReader {
  readonly #cat: CatFileBatch;
  /** Parsed trees (names as latin1 strings of their bytes), weighed by their entries. */
  readonly #trees: GenerationalCache<string, Map<string, Entry>>;
  readonly #blobs = new GenerationalCache<string, Buffer>(
    BLOB_BUDGET_BYTES,
    (b) => b.length + BLOB_ENTRY_BYTES,
  );
  readonly #fetchingBlobs = new SharedFlight<string, Buffer | null>();
  /** Questions asked together share one fetch (the root tree, at first). */
  readonly #fetching = new SharedFlight<string, Map<string, Entry>>();
  readonly #commitTrees = new Map<string, string>();
  readonly #askedCommits = new SharedFlight<string, string>();

  constructor(cat: CatFileBatch, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#cat = cat;
    this.#trees = new GenerationalCache(maxEntries, (listing) => listing.size);
  }

  /**
   * The content of `path` ("a/b/c", no leading or trailing slash) in the
   * tree of `commit` (an object id), or null when there is no such file.
   * The buffer may be shared with other callers: read it, do not change it.
   */
  async read(commit: string, path: string): Promise<Buffer | null> {
    let tree = await this.#treeOf(commit);
    // Names are compared as latin1 strings of their bytes; ASCII is its own.
    const parts = (ASCII.test(path) ? path : Buffer.from(path).toString("latin1")).split("/");
    const last = parts.length - 1;
    for (let i = 0; ; i++) {
      const sha = tree;
      const listing =
        this.#trees.get(sha) ?? (await this.#fetching.run(sha, () => this.#fetch(sha)));
      const entry = listing.get(parts[i] ?? "");
      if (entry === undefined) return null;
      // As git, whatever the entry is (a submodule's commit is null unless here).
      if (i === last) return this.#blob(entry.sha);
      if (!entry.isTree) return null;
      tree = entry.sha;
    }
  }

  #treeOf(commit: string): Promise<string> | string {
    const known = this.#commitTrees.get(commit);
    if (known !== undefined) return known;
    return this.#askedCommits.run(commit, () => this.#fetchTreeOf(commit));
  }

  async #fetchTreeOf(commit: string): Promise<string> {
    const body = await this.#cat.get(commit);
    const m = body === null ? null : COMMIT_TREE.exec(body.subarray(0, 80).toString("latin1"));
    if (m === null) {
      throw new GitError(`${commit} is not a commit`, { args: ["cat-file", "--batch"] });
    }
    const tree = m[1] as string;
    if (this.#commitTrees.size >= MAX_COMMITS) this.#commitTrees.clear();
    this.#commitTrees.set(commit, tree);
    return tree;
  }

  #blob(sha: string): Promise<Buffer | null> | Buffer {
    const kept = this.#blobs.get(sha);
    if (kept !== undefined) return kept;
    return this.#fetchingBlobs.run(sha, async () => {
      const body = await this.#cat.get(sha);
      if (body === null || body.length > MAX_KEPT_BLOB) return body;
      // Its own memory: a small buffer is a slice of a pool slab shared
      // with others, and a kept slice would keep the whole slab.
      const kept = Buffer.allocUnsafeSlow(body.length);
      body.copy(kept);
      return this.#blobs.set(sha, kept);
    });
  }

  async #fetch(sha: string): Promise<Map<string, Entry>> {
    const body = await this.#cat.get(sha);
    if (body === null) throw new GitError(`tree ${sha} is missing`, { args: ["cat-file"] });
    return this.#trees.set(sha, parseTree(body, sha.length / 2));
  }
}

/** git's tree format: entries of "<octal mode> <name>\0<raw object id>". */
export function parseTree(body: Buffer, idBytes: number): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  let at = 0;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    const nul = sp < 0 ? -1 : body.indexOf(0, sp + 1);
    if (nul < 0 || nul + 1 + idBytes > body.length) {
      throw new GitError("a tree object is malformed", { args: ["cat-file"] });
    }
    const mode = Number.parseInt(body.toString("latin1", at, sp), 8);
    const name = body.toString("latin1", sp + 1, nul);
    const sha = body.toString("hex", nul + 1, nul + 1 + idBytes);
    // git uses the first of duplicate names (only a corrupt tree has them).
    if (!entries.has(name)) entries.set(name, { isTree: (mode & S_IFMT) === S_IFDIR, sha });
    at = nul + 1 + idBytes;
  }
  return entries;
}
