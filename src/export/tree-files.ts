/**
 * The files of a tree as an export sees them: each blob's path and the
 * key it is exported as (Annex/Export.hs `exportKey`): the annexed key
 * its symlink or pointer file names, else a git sha key `GIT--<sha>`
 * (Annex/GitShaKey.hs), which stands for a file stored in git itself.
 */
import type { Git } from "../git/index.js";
import { formatKey, keyOfLinkOrPointer, MAX_POINTER_SIZE } from "../keys/index.js";
import { parseCatFileBatch } from "../peers/index.js";

/** A git sha key's prefix: its variety "GIT", then "--". */
const GIT_SHA_KEY_PREFIX = "GIT--";

/** The key git-annex exports a file stored in git as. */
export function gitShaKey(sha: string): string {
  return `${GIT_SHA_KEY_PREFIX}${sha}`;
}

/** Whether a key stands for a file stored in git (no location log is kept for those). */
export function isGitShaKey(key: string): boolean {
  return key.startsWith(GIT_SHA_KEY_PREFIX);
}

/** The blob a git sha key stands for. */
export function gitShaOf(key: string): string {
  return key.slice(GIT_SHA_KEY_PREFIX.length);
}

/** One entry of `git ls-tree -r -l`. */
export interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly sha: string;
  /** Blob size; null for a submodule. */
  readonly size: number | null;
  readonly path: string;
}

const LS_TREE_LONG = /^(\d{6}) (\w+) ([0-9a-f]{40,64}) +(\d+|-)\t([\s\S]+)$/;

/** Every blob and submodule of `tree`, recursively, paths from its top. */
export async function lsTreeRecursive(git: Git, tree: string): Promise<TreeEntry[]> {
  const out = await git.run(["ls-tree", "-r", "-z", "-l", "--full-tree", tree]);
  const entries: TreeEntry[] = [];
  for (const raw of out.toString("utf8").split("\0")) {
    const m = LS_TREE_LONG.exec(raw);
    if (m === null) continue;
    const [, mode, type, sha, size, path] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    entries.push({ mode, type, sha, size: size === "-" ? null : Number(size), path });
  }
  return entries;
}

/** Export keys of blobs by sha, asked of git in batches and remembered. */
export class BlobKeys {
  readonly #git: Git;
  readonly #known = new Map<string, string>();

  constructor(git: Git) {
    this.#git = git;
  }

  /** The export key of each blob of `shas` (a missing object is its git sha key). */
  async keysOf(shas: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(shas)].filter((s) => !this.#known.has(s));
    if (wanted.length > 0) await this.#learn(wanted);
    return new Map(shas.map((s) => [s, this.#known.get(s) ?? gitShaKey(s)]));
  }

  async keyOf(sha: string): Promise<string> {
    return (await this.keysOf([sha])).get(sha) ?? gitShaKey(sha);
  }

  async #learn(shas: readonly string[]): Promise<void> {
    const input = `${shas.join("\n")}\n`;
    const checks = (
      await this.#git.run(["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"], {
        input,
      })
    )
      .toString("utf8")
      .split("\n");
    // Only small blobs can be a link or a pointer; big ones are never read.
    const small = shas.filter((_, i) => {
      const [, type, size] = (checks[i] ?? "").split(" ");
      return type === "blob" && Number(size) <= MAX_POINTER_SIZE;
    });
    const blobs =
      small.length === 0
        ? []
        : parseCatFileBatch(
            await this.#git.run(["cat-file", "--batch"], { input: `${small.join("\n")}\n` }),
            small.length,
          );
    for (const s of shas) this.#known.set(s, gitShaKey(s));
    for (const [i, s] of small.entries()) {
      const blob = blobs[i];
      const key = blob ? keyOfLinkOrPointer(blob) : null;
      if (key !== null) this.#known.set(s, formatKey(key));
    }
  }
}
