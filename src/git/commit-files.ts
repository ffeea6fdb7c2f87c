/**
 * A commit made from a parent commit plus file changes, in one
 * `git fast-import`: the blobs, every tree on a changed path, and the
 * commit go into one pack. Building the same commit with an index
 * (read-tree, update-index, write-tree, commit-tree) writes each new tree
 * as a loose object file, and a journal of 20,000 location logs touches
 * about 24,000 trees.
 *
 * No ref is written: the commit is made on a scratch branch that is reset
 * before fast-import ends (fast-import leaves a branch reset without a
 * `from` alone), and the caller moves its own ref with compare-and-swap.
 */
import { GitError } from "./errors.js";
import { FastImport, quotePath } from "./fast-import.js";

/** A file to write (`content`) or remove (null) in a commit. */
export interface FileChange {
  /** Path from the top of the tree, "/"-separated. */
  readonly path: string;
  readonly content: Buffer | string | null;
  /** File mode; "100644" (a regular file) unless given. */
  readonly mode?: string;
}

/** Who made a commit; the time is when it is made. */
export interface Ident {
  readonly name: string;
  readonly email: string;
}

/** Options for {@link commitFiles}. */
export interface CommitFilesOptions {
  /** The first parent; the new tree is its tree with `changes` applied. */
  readonly from: string;
  /** Further parents (a merge), in order. */
  readonly merges?: readonly string[];
  /** Applied in order: a later change to the same path wins. */
  readonly changes: readonly FileChange[];
  readonly message: string;
  readonly author: Ident;
  readonly committer: Ident;
}

/** The commit made and the trees it was made from and of. */
export interface CommitFilesResult {
  readonly commit: string;
  readonly tree: string;
  /** The tree of `from`: equal to `tree` when the changes changed nothing. */
  readonly parentTree: string;
}

/** How fast-import is run for commits: the times in them are when they are made. */
export const FAST_IMPORT_ARGS = ["--date-format=now"];
/** fast-import's name for the branch it builds on; never written as a ref. */
const SCRATCH = "refs/annexgate/fast-import";
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** The answer to `ls <commit> ""`: "040000 tree <sha>\t". */
const ROOT = /^0?40000 tree ([0-9a-f]{40}|[0-9a-f]{64})\t$/;
const MODE = /^(?:100644|100755|120000|160000|644|755)$/;

function identLine(role: string, who: Ident): string {
  const ok = (s: string) => !/[<>\0\n]/.test(s);
  if (!ok(who.name) || !ok(who.email)) {
    throw new GitError(`bad ${role} identity ${JSON.stringify(`${who.name} <${who.email}>`)}`, {
      args: ["fast-import"],
    });
  }
  // --date-format=now: fast-import stamps the current time and zone.
  const name = who.name === "" ? "" : ` ${who.name}`;
  return `${role}${name} <${who.email}> now\n`;
}

function checkSha(s: string, what: string): string {
  if (!SHA.test(s))
    throw new GitError(`not an object id: ${what} ${JSON.stringify(s)}`, { args: [] });
  return s;
}

/** The commit command up to (not including) its file changes. */
function commitHeader(opts: CommitFilesOptions): string {
  // -m of commit-tree ends the message with a newline; so do we.
  const message = Buffer.from(`${opts.message.replace(/\n*$/, "")}\n`, "utf8");
  let head =
    `commit ${SCRATCH}\nmark :1\n` +
    identLine("author", opts.author) +
    identLine("committer", opts.committer) +
    `data ${message.length}\n${message.toString("utf8")}\n` +
    `from ${checkSha(opts.from, "parent")}\n`;
  for (const m of opts.merges ?? []) head += `merge ${checkSha(m, "parent")}\n`;
  return head;
}

async function writeChange(fi: FastImport, c: FileChange): Promise<void> {
  const path = quotePath(c.path);
  if (c.content === null) {
    await fi.write(`D ${path}\n`);
    return;
  }
  const mode = c.mode ?? "100644";
  if (!MODE.test(mode)) throw new GitError(`bad file mode ${mode}`, { args: ["fast-import"] });
  const bytes = typeof c.content === "string" ? Buffer.from(c.content, "utf8") : c.content;
  await fi.write(`M ${mode} inline ${path}\ndata ${bytes.length}\n`);
  await fi.write(bytes);
  await fi.write("\n");
}

/**
 * Writes the commit `opts` describes into `fi` and reads back what it
 * made. With `checkpoint`, fast-import then writes out what it has (a
 * pack, or loose objects for a few) before the last answer comes, so the
 * commit is in the repository when this returns and `fi` can take more.
 */
export async function writeCommit(
  fi: FastImport,
  opts: CommitFilesOptions,
  checkpoint: boolean,
): Promise<CommitFilesResult> {
  await fi.write(commitHeader(opts));
  for (const c of opts.changes) await writeChange(fi, c);
  // The commit ends at the blank line; then ask for what it made, and
  // reset the scratch branch so no ref is written at the end (or at the
  // checkpoint).
  await fi.write(`\nget-mark :1\nls :1 ""\nls ${opts.from} ""\nreset ${SCRATCH}\n\n`);
  // Commands run in order: an answer after the checkpoint means it is done.
  if (checkpoint) await fi.write("checkpoint\n\nget-mark :1\n");
  const commit = await fi.readLine();
  const tree = ROOT.exec(await fi.readLine())?.[1];
  const parentTree = ROOT.exec(await fi.readLine())?.[1];
  if (checkpoint && (await fi.readLine()) !== commit) {
    throw new GitError("git fast-import gave an unexpected answer", { args: ["fast-import"] });
  }
  if (!SHA.test(commit) || tree === undefined || parentTree === undefined) {
    // An empty tree is listed as missing; git-annex's branch never has one.
    throw new GitError("git fast-import gave an unexpected answer", { args: ["fast-import"] });
  }
  return { commit, tree, parentTree };
}

/**
 * Makes the commit `opts` describes in the repository whose environment
 * is `env`, and returns its id and trees. Nothing points at the commit
 * afterwards: the caller moves a ref to it (or drops it).
 */
export async function commitFiles(
  cwd: string,
  env: Record<string, string>,
  opts: CommitFilesOptions,
): Promise<CommitFilesResult> {
  const fi = new FastImport(cwd, env, FAST_IMPORT_ARGS);
  try {
    const made = await writeCommit(fi, opts, false);
    await fi.finish();
    return made;
  } catch (err) {
    await fi.abort();
    throw err;
  }
}
