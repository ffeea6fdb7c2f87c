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
import { CatFileBatch, type Git } from "../git/index.js";
import { formatKey, type Key, keyOfLinkOrPointer, MAX_POINTER_SIZE } from "../keys/index.js";
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

/** One staged (or committed) entry that can be an annexed file. */
interface Candidate {
  readonly oid: string;
  /** From the top of the repository. */
  readonly path: string;
}

/** Entries of `git ls-files --stage -z` or `git ls-tree -r -z`: symlinks and regular files. */
function annexedCandidates(listing: string): Candidate[] {
  const out: Candidate[] = [];
  for (const entry of listing.split("\0")) {
    const tab = entry.indexOf("\t");
    if (tab < 0) continue;
    const fields = entry.slice(0, tab).split(" ");
    const oid = fields.find((f) => /^[0-9a-f]{40,64}$/.test(f));
    // A symlink, or a regular file (an unlocked file's pointer).
    if ((fields[0] === "120000" || fields[0] === "100644") && oid !== undefined) {
      out.push({ oid, path: entry.slice(tab + 1) });
    }
  }
  return out;
}

/**
 * The annexed files of a repository and their keys: those of its index
 * under `prefix` ("" for all), or of HEAD's tree in a bare repository
 * (none when it has no HEAD yet).
 */
export async function listAnnexedFiles(
  git: Git,
  prefix = "",
): Promise<{ readonly path: string; readonly key: Key }[]> {
  let listing: Buffer;
  if (git.bare) {
    if ((await git.revParse("HEAD")) === null) return [];
    listing = await git.run(["ls-tree", "-r", "-z", "HEAD"]);
  } else {
    listing = await git.run(["ls-files", "--stage", "-z", "--", prefix === "" ? "." : prefix]);
  }
  const cat = new CatFileBatch(git);
  const out: { path: string; key: Key }[] = [];
  try {
    for (const c of annexedCandidates(listing.toString("utf8"))) {
      const content = await cat.get(c.oid);
      if (content === null || content.length > MAX_POINTER_SIZE) continue;
      const key = keyOfLinkOrPointer(content);
      if (key !== null) out.push({ path: c.path, key });
    }
  } finally {
    await cat.close();
  }
  return out;
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
