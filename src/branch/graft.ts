/**
 * A tree with one more top-level entry: how a tree is grafted into the
 * git-annex branch to keep it reachable (Annex/Branch.hs
 * `rememberTreeish`, Git/Tree.hs `graftTree`, for a graft point at the
 * top, which is where git-annex grafts exported trees).
 */
import type { Git, TreeEntry } from "../git/index.js";
import { BranchError } from "./errors.js";

const LS_TREE_ENTRY = /^(\d{6}) (blob|tree|commit) ([0-9a-f]{40,64})\t([\s\S]+)$/;

/** The top-level entries of `tree` (`git ls-tree -z`). */
async function topEntries(git: Git, tree: string): Promise<TreeEntry[]> {
  const out = await git.run(["ls-tree", "-z", tree]);
  const entries: TreeEntry[] = [];
  for (const raw of out.toString("utf8").split("\0")) {
    if (raw === "") continue;
    const m = LS_TREE_ENTRY.exec(raw);
    if (m === null) {
      throw new BranchError("AG_BRANCH_CONTENT", "unexpected git ls-tree output", { tree });
    }
    const [, mode, type, sha, name] = m as unknown as [
      string,
      string,
      TreeEntry["type"],
      string,
      string,
    ];
    entries.push({ mode, type, sha, name });
  }
  return entries;
}

/** `base` with the top-level entry `name` set to the tree `graft` (replacing one of that name). */
export async function graftTopLevel(
  git: Git,
  base: string,
  name: string,
  graft: string,
): Promise<string> {
  const entries = (await topEntries(git, base)).filter((e) => e.name !== name);
  entries.push({ mode: "040000", type: "tree", sha: graft, name });
  return git.mktree(entries);
}
