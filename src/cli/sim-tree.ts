/**
 * `addtree REPO EXPRESSION` in `annexgate sim` (Annex/Sim.hs
 * CommandAddTree): the annexed files of this repository's index, under
 * the directory the command runs in, that EXPRESSION matches for the
 * simulated repository REPO. Matched as git-annex matches them: parsed for
 * REPO with this repository's groups and groupwanted, evaluated on each
 * file's key and path with this repository's location logs and metadata;
 * a fact the expression needs that is not there is no match.
 */
import { relative, sep } from "node:path";
import { BlobKeys, isGitShaKey, lsTreeRecursive } from "../export/index.js";
import type { Git } from "../git/index.js";
import { formatKey, type Key, parseKey } from "../keys/index.js";
import { buildPolicySnapshot, snapshotSizes, weighsSizes } from "../policy/index.js";
import {
  loadKeyState,
  matches,
  NotEnoughDataError,
  Policy,
  parseForRepository,
} from "../preferred-content/index.js";
import { SimError } from "../sim/index.js";
import { withRepository } from "./command.js";

export interface TreeFile {
  /** Relative to the directory the command runs in, as the sim names it. */
  readonly file: string;
  readonly key: string;
}

/** The blobs of `git ls-files --stage -z` output (symlinks and regular files). */
function stagedBlobs(listing: string): { readonly sha: string; readonly path: string }[] {
  const out: { sha: string; path: string }[] = [];
  for (const entry of listing.split("\0")) {
    const tab = entry.indexOf("\t");
    if (tab < 0) continue;
    const [mode, sha] = entry.slice(0, tab).split(" ");
    if ((mode === "120000" || mode === "100644") && sha !== undefined) {
      out.push({ sha, path: entry.slice(tab + 1) });
    }
  }
  return out;
}

/**
 * The annexed files of a repository and their keys: those of its index
 * under `prefix` ("" for all), or of HEAD's tree in a bare repository
 * (none when it has no HEAD yet). Keys are read as an export reads them
 * (export/tree-files.ts BlobKeys: batched, small blobs only).
 */
export async function listAnnexedFiles(
  git: Git,
  prefix = "",
): Promise<{ readonly path: string; readonly key: Key }[]> {
  let blobs: readonly { readonly sha: string; readonly path: string }[];
  if (git.bare) {
    if ((await git.revParse("HEAD")) === null) return [];
    blobs = (await lsTreeRecursive(git, "HEAD")).filter((e) => e.type === "blob");
  } else {
    const listing = await git.run([
      "ls-files",
      "--stage",
      "-z",
      "--",
      prefix === "" ? "." : prefix,
    ]);
    blobs = stagedBlobs(listing.toString("utf8"));
  }
  const keys = await new BlobKeys(git).keysOf(blobs.map((b) => b.sha));
  return blobs.flatMap((b) => {
    const key = keys.get(b.sha);
    // A file stored in git itself has a git sha key: not annexed.
    return key === undefined || isGitShaKey(key) ? [] : [{ path: b.path, key: parseKey(key) }];
  });
}

/** The files `expression` adds for the simulated repository `uuid`. */
export function treeFilesMatching(uuid: string, expression: string): Promise<TreeFile[]> {
  return withRepository(
    async (here) => {
      const { git, branch } = here;
      const prefix = relative(git.dir, process.cwd()).split(sep).join("/");
      const snapshot = await buildPolicySnapshot(here);
      const policy = new Policy(
        weighsSizes(snapshot, [expression])
          ? { ...snapshot, ...(await snapshotSizes(git, branch)) }
          : snapshot,
      );
      const parsed = parseForRepository(policy, uuid, expression);
      if (!parsed.ok) throw new SimError(`Failed parsing "${expression}": ${parsed.errors[0]}`);
      const found: TreeFile[] = [];
      for (const { path, key } of await listAnnexedFiles(git, prefix)) {
        const state = await loadKeyState(branch, key);
        let ok: boolean;
        try {
          ok = matches(
            policy,
            parsed.matcher,
            { mode: "info", key, file: path },
            { repo: uuid, state },
          );
        } catch (e) {
          if (!(e instanceof NotEnoughDataError)) throw e;
          ok = false;
        }
        const file = prefix === "" ? path : path.slice(prefix.length + 1);
        if (ok) found.push({ file, key: formatKey(key) });
      }
      return found;
    },
    { needsUuid: false },
  );
}
