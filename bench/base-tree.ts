/**
 * A build of an earlier revision of annexgate beside this tree, for the
 * benches that compare the two (revisions, instructions): a git worktree
 * of the revision, this tree's node_modules, compiled with tsc.
 */
import { readFile, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Gives an older tree's test helpers the retrying directory removal this
 * tree's have: without it, a bench there can stop at its clean-up (a
 * stock git-annex command's children still writing in a client it
 * removes) before printing its figures. Only the clean-up changes, never
 * what is measured.
 */
async function retryingRemoveDir(tree: string): Promise<void> {
  const file = join(tree, "test", "helpers", "index.ts");
  const text = await readFile(file, "utf8");
  const plain = "await rm(dir, { recursive: true, force: true });";
  if (text.includes(plain)) {
    await writeFile(
      file,
      text.replace(plain, "await rm(dir, { recursive: true, force: true, maxRetries: 10 });"),
    );
  }
}

export async function buildBase(rev: string): Promise<{ tree: string; done: () => Promise<void> }> {
  const parent = await makeTempDir("annexgate-base-");
  const tree = join(parent, "tree");
  await run("git", ["worktree", "add", "--detach", tree, rev], { cwd: here });
  await symlink(join(here, "node_modules"), join(tree, "node_modules"));
  await retryingRemoveDir(tree);
  await run(process.execPath, [join(here, "node_modules", "typescript", "bin", "tsc"), "-p", "."], {
    cwd: tree,
  });
  return {
    tree,
    done: async () => {
      await run("git", ["worktree", "remove", "--force", tree], { cwd: here });
      await removeDir(parent);
    },
  };
}
