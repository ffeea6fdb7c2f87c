/**
 * The cache of repository sizes, tied to the git-annex branch commit they
 * were computed at, in `annex/annexgate/repo-sizes.json` of the git
 * directory. It is replaced atomically, so readers never see half of one;
 * two writers just leave the later one's (equally valid) answer.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Git } from "../../git/index.js";
import type { RepoSizes } from "./sizes-map.js";

const VERSION = 1;

/** Sizes as of one commit of the git-annex branch. */
export interface CachedRepoSizes {
  readonly commit: string;
  readonly sizes: RepoSizes;
}

/** Where the cache of a repository lives. */
export function repoSizesCachePath(git: Git): string {
  return join(git.gitDir, "annex", "annexgate", "repo-sizes.json");
}

/** The cached sizes, or null when there are none (or the file is not one of ours). */
export async function loadRepoSizesCache(git: Git): Promise<CachedRepoSizes | null> {
  let text: string;
  try {
    text = await readFile(repoSizesCachePath(git), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const data = JSON.parse(text) as { version?: unknown; commit?: unknown; sizes?: unknown };
    if (data.version !== VERSION || typeof data.commit !== "string") return null;
    if (!/^[0-9a-f]{40,64}$/.test(data.commit)) return null;
    if (typeof data.sizes !== "object" || data.sizes === null) return null;
    const sizes: RepoSizes = new Map();
    for (const [u, v] of Object.entries(data.sizes)) {
      if (typeof v !== "string" || !/^-?\d+$/.test(v)) return null;
      sizes.set(u, BigInt(v));
    }
    return { commit: data.commit, sizes };
  } catch {
    // A damaged cache is only a slower start: it is recomputed.
    return null;
  }
}

/** Replaces the cache with `sizes` as of `commit`. */
export async function saveRepoSizesCache(
  git: Git,
  commit: string,
  sizes: ReadonlyMap<string, bigint>,
): Promise<void> {
  const file = repoSizesCachePath(git);
  const dir = join(file, "..");
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.repo-sizes.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const body = {
    version: VERSION,
    commit,
    sizes: Object.fromEntries([...sizes].map(([u, n]) => [u, n.toString()])),
  };
  try {
    await writeFile(tmp, `${JSON.stringify(body)}\n`);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
