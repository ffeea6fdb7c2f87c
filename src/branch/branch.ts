// Over 400 lines: one class holds the whole journal/commit protocol shared with stock git-annex.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import {
  CatFileBatch,
  CommitWriter,
  type Git,
  type Ident,
  RefUpdates,
  TreeReader,
} from "../git/index.js";
import { KeyedMutex } from "../util/index.js";
import { waitUnlocked } from "./annex-lock.js";
import { BranchError } from "./errors.js";
import { graftTopLevel } from "./graft.js";
import {
  branchPathOf,
  discardIncompleteAppend,
  JOURNAL_BATCH,
  journalFileName,
  readJournalDir,
  readJournalFileSync,
  removeIfUnchangedSync,
} from "./journal.js";
import { listRemoteBranches, planMerge } from "./merge.js";
import { containsLines, unionMerge } from "./union.js";

/** The git-annex branch, fully qualified. */
export const BRANCH_REF = "refs/heads/git-annex";
const ORIGIN_REF = "refs/remotes/origin/git-annex";
/** Branch files whose change means history was rewritten (`git annex forget`). */
const TRANSITIONS_LOG = "transitions.log";
const MAX_COMMIT_ATTEMPTS = 10;
/** The message of the journal's commits, as git-annex's. */
const COMMIT_MESSAGE = "update";
const MAX_CHANGE_ATTEMPTS = 5;
/** How long to wait for stock git-annex to release its journal lock. */
const LOCK_WAIT_MS = 5000;
/** Longest pause between auto-commit retries after failures. */
const MAX_RETRY_MS = 60_000;
/** Temporary journal files older than this were left by a crashed process. */
const STALE_TMP_MS = 60 * 60 * 1000;

/** What a step of `untilRefSwapped` returns when another writer moved the branch first. */
const LOST_RACE: unique symbol = Symbol("lost race");

/**
 * Runs `step` until its compare-and-swap of the branch ref wins (it
 * returns anything but LOST_RACE), pausing a little longer after each lost
 * race; after MAX_COMMIT_ATTEMPTS losses gives up with AG_BRANCH_CONFLICT,
 * saying it was `doing` (e.g. "committing").
 */
async function untilRefSwapped<T>(
  doing: string,
  step: () => Promise<T | typeof LOST_RACE>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await step();
    if (result !== LOST_RACE) return result;
    if (attempt >= MAX_COMMIT_ATTEMPTS) {
      throw new BranchError(
        "AG_BRANCH_CONFLICT",
        `the git-annex branch kept moving; gave up ${doing} after ${attempt} attempts`,
        { attempts: attempt },
      );
    }
    await new Promise((r) => setTimeout(r, 10 * attempt));
  }
}

/** The content of the next commit, and what it settles (see AnnexBranch.#pending). */
interface Pending {
  /** The journal files read, as read (removed once committed, if unchanged). */
  readonly snapshot: Map<string, Buffer>;
  /** Branch path to the content it gets. */
  readonly contents: Map<string, string>;
  /** Our journal writes as they were when the commit started. */
  readonly written: Map<string, string>;
  /** Those of `written` that this commit holds. */
  readonly settled: Set<string>;
  /** Our commit that dropped off the branch (a second parent), or null. */
  readonly lost: string | null;
}

/** Options for {@link AnnexBranch.startAutoCommit}. */
export interface AutoCommitOptions {
  /** Commit at most this long after a change (default 1000 ms). */
  readonly delayMs?: number;
  /**
   * Told about a failed background commit; the journal keeps the changes
   * and the commit is tried again after `delayMs`. Without it, failures
   * become process warnings.
   */
  readonly onError?: (err: unknown) => void;
}

interface AutoCommit {
  readonly delayMs: number;
  readonly onError: (err: unknown) => void;
  timer: NodeJS.Timeout | null;
  /** Consecutive failed commits; each doubles the wait before the next try. */
  failures: number;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

/**
 * A journal file's bytes, or null. Synchronous, as journal.ts reads them
 * (see readJournalFileSync): a few hundred bytes, read several times per
 * upload, and fs/promises's thread-pool round trips cost more than the reads.
 */
async function readIfExists(path: string): Promise<Buffer | null> {
  return readJournalFileSync(path);
}

/** Runs `op`, and once more after creating `dir` when it failed for want of a directory. */
function creatingDirectory(dir: string, op: () => void): void {
  try {
    op();
  } catch (err) {
    if (!isMissing(err)) throw err;
    mkdirSync(dir, { recursive: true });
    op();
  }
}

/**
 * Rejects paths that are not plain relative file paths of the branch, and
 * paths git-annex's journal escaping would turn into another path (a
 * segment starting with "_" comes back from the journal as a different
 * file).
 */
function checkPath(path: string): void {
  const ok =
    path !== "" &&
    !/[\0\n\r]/.test(path) &&
    path.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..") &&
    branchPathOf(journalFileName(path)) === path;
  if (!ok) {
    throw new BranchError(
      "AG_BRANCH_PATH",
      `not a git-annex branch file path: ${JSON.stringify(path)}`,
      {
        path,
      },
    );
  }
}

/**
 * The git-annex branch of one repository, read and written the way
 * git-annex does it: changes go to the journal (`annex/journal/`, which
 * every reader prefers to the branch), and commits stage the journal onto
 * `refs/heads/git-annex`.
 *
 * Stock git-annex in the same repository stays consistent with this: it
 * remembers in `annex/index.lck` which branch commit its own index
 * (`annex/index`) holds, and when the branch has moved it union-merges the
 * branch into that index before it next commits. So this class never
 * touches git-annex's index; it builds each commit in a temporary index
 * and moves the ref with compare-and-swap.
 *
 * It does not take git-annex's fcntl lock on `annex/journal.lck`; it
 * waits while the kernel (F_GETLK, through the process's fcntl helper in
 * ../locks) says git-annex holds it, which keeps it from
 * removing journal files git-annex is staging (git-annex fails when one
 * it staged has gone). The races that remain are repaired by union merge,
 * the same way git-annex repairs pushes that race its own commits: see
 * {@link AnnexBranch.commit}. Two changes to the same file at the same
 * instant, one by git-annex and one by annexgate, can still lose one.
 *
 * Not supported: the private journal (`annex/journal-private`, used for
 * repositories marked annex.private), and group permissions for
 * core.sharedRepository on journal files.
 *
 * @example
 * const branch = await AnnexBranch.open(await Git.open(dir));
 * await branch.change("uuid.log", (old) => old + line);
 * await branch.close(); // commits what is pending
 */
export class AnnexBranch {
  readonly git: Git;
  readonly #cat: CatFileBatch;
  /** The branch's files, read walking trees kept here (see tree-reader.ts). */
  readonly #trees: TreeReader;
  /** The journal commits' ref updates, through one long-running git (see ref-updates.ts). */
  readonly #refUpdates: RefUpdates;
  /** The journal commits, made by one long-running fast-import (see commit-writer.ts). */
  readonly #commitWriter: CommitWriter;
  readonly #journalDir: string;
  readonly #tmpDir: string;
  readonly #journalLock: string;
  /** Found at the first commit: a session that only reads never runs `git var`. */
  #identity: Promise<CommitIdentity> | null = null;
  readonly #paths = new KeyedMutex();
  readonly #commits = new KeyedMutex();
  /** The remote git-annex refs last found merged into the branch (see mergeRemoteBranches). */
  #settledRefs = "";
  /** What this process last wrote to the journal, per path, until committed. */
  readonly #written = new Map<string, string>();
  /** When #written last went from empty to not (performance.now()). */
  #uncommittedSince: number | null = null;
  /** Our newest commit; it must stay an ancestor of the branch. */
  #lastCommit: string | null = null;
  /** The files #lastCommit changed, when it was a plain commit of the journal (else null). */
  #lastCommitPaths: ReadonlySet<string> | null = null;
  #auto: AutoCommit | null = null;
  #closing: Promise<void> | null = null;
  #tmpCounter = 0;

  private constructor(git: Git) {
    this.git = git;
    this.#cat = new CatFileBatch(git);
    this.#trees = new TreeReader(this.#cat);
    this.#refUpdates = new RefUpdates(git, `git-annex branch ${COMMIT_MESSAGE}`);
    this.#commitWriter = new CommitWriter(git);
    this.#journalDir = join(git.gitDir, "annex", "journal");
    this.#tmpDir = join(git.gitDir, "annex", "annexgate-tmp");
    this.#journalLock = join(git.gitDir, "annex", "journal.lck");
  }

  /**
   * Opens the branch of `git`'s repository, creating `git-annex` first if
   * it does not exist: from `origin/git-annex` when there is one, else as
   * an empty commit "branch created" (Annex/Branch.hs `getBranch`).
   */
  static async open(git: Git): Promise<AnnexBranch> {
    const branch = new AnnexBranch(git);
    await branch.#ensureBranch();
    await branch.#removeStaleTmp();
    return branch;
  }

  async #removeStaleTmp(): Promise<void> {
    const names = await readdir(this.#tmpDir).catch(() => []);
    const now = Date.now();
    for (const name of names) {
      const file = join(this.#tmpDir, name);
      const st = await stat(file).catch(() => null);
      if (st !== null && now - st.mtimeMs > STALE_TMP_MS) await rm(file, { force: true });
    }
  }

  async #ensureBranch(): Promise<string> {
    const tip = await this.git.revParse(BRANCH_REF);
    if (tip !== null) return tip;
    let sha = await this.git.revParse(`${ORIGIN_REF}^{commit}`);
    if (sha === null) {
      const tree = await this.git.mktree([]);
      sha = await this.#commitObject(tree, [], "branch created");
    }
    if (await this.git.updateRef(BRANCH_REF, sha, null, "branch created")) return sha;
    const now = await this.git.revParse(BRANCH_REF);
    if (now === null)
      throw new BranchError("AG_BRANCH_CONFLICT", "cannot create the git-annex branch");
    return now;
  }

  #commitIdentity(): Promise<CommitIdentity> {
    this.#identity ??= commitIdentity(this.git).catch((e: unknown) => {
      this.#identity = null; // the next commit asks git again
      throw e;
    });
    return this.#identity;
  }

  async #commitObject(tree: string, parents: readonly string[], message: string): Promise<string> {
    const env = (await this.#commitIdentity()).env;
    return this.git.commitTree(
      env === undefined ? { tree, parents, message } : { tree, parents, message, env },
    );
  }

  #journalPath(path: string): string {
    return join(this.#journalDir, journalFileName(path));
  }

  #checkOpen(): void {
    if (this.#closing !== null)
      throw new BranchError("AG_BRANCH_CLOSED", "the git-annex branch is closed");
  }

  /** Runs `work` in the commit queue, or refuses when the branch is closed. */
  #queued<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing !== null) {
      return Promise.reject(new BranchError("AG_BRANCH_CLOSED", "the git-annex branch is closed"));
    }
    return this.#commits.run("", work);
  }

  /**
   * The current content of a file of the branch: the journal's version
   * when there is one (uncommitted changes, ours or git-annex's), else the
   * committed one, else "" for a file that does not exist.
   */
  async read(path: string): Promise<string> {
    checkPath(path);
    this.#checkOpen();
    const journalled = await readIfExists(this.#journalPath(path));
    if (journalled !== null) return discardIncompleteAppend(journalled).toString("utf8");
    return (await this.#committed(BRANCH_REF, path)).toString("utf8");
  }

  /** A file of the branch (BRANCH_REF) or of one of its commits; "" when missing. */
  async #committed(treeish: string, path: string): Promise<Buffer> {
    // The tip is read from git's files at each read, as git would resolve it.
    const commit = treeish === BRANCH_REF ? this.git.refFromFiles(BRANCH_REF) : treeish;
    const content =
      commit === null
        ? await this.#cat.get(`${treeish}:${path}`)
        : await this.#trees.read(commit, path);
    return content ?? Buffer.alloc(0);
  }

  /**
   * Read-modify-write of one branch file into the journal. Changes to the
   * same path are serialised within this process; the journal file is
   * replaced atomically (temporary file, then rename). `f` must return
   * newline-terminated lines (or ""). Returns false when `f` changed
   * nothing, in which case nothing is written. `f` may be called more
   * than once (when another process rewrote the file meanwhile), so it
   * should only compute.
   */
  async change(path: string, f: (old: string) => string): Promise<boolean> {
    checkPath(path);
    this.#checkOpen();
    return this.#paths.run(path, async () => {
      const file = this.#journalPath(path);
      for (let attempt = 1; ; attempt++) {
        await waitUnlocked(this.#journalLock, LOCK_WAIT_MS);
        const before = await readIfExists(file);
        const old =
          before === null
            ? (await this.#committed(BRANCH_REF, path)).toString("utf8")
            : discardIncompleteAppend(before).toString("utf8");
        const next = f(old);
        if (next === old) return false;
        if (next !== "" && !next.endsWith("\n")) {
          throw new BranchError(
            "AG_BRANCH_CONTENT",
            "branch file content must end with a newline",
            {
              path,
            },
          );
        }
        // Stock git-annex does not see our locks: if it rewrote the journal
        // file meanwhile, build on its version instead of overwriting it.
        const now = await readIfExists(file);
        const same = before === null ? now === null : now?.equals(before) === true;
        if (!same && attempt < MAX_CHANGE_ATTEMPTS) continue;
        await this.#writeJournal(path, next);
        if (this.#written.size === 0) this.#uncommittedSince = performance.now();
        this.#written.set(path, next);
        this.#scheduleAutoCommit();
        return true;
      }
    });
  }

  async #writeJournal(path: string, content: string): Promise<void> {
    // The temporary file cannot live in the journal directory (git-annex
    // stages every file there) nor in git-annex's othertmp (git-annex
    // empties that unless it holds an fcntl lock); it has its own
    // directory on the same filesystem, so the rename is atomic.
    this.#tmpCounter += 1;
    const tmp = join(
      this.#tmpDir,
      `${process.pid}.${this.#tmpCounter}.${randomBytes(4).toString("hex")}`,
    );
    const dest = this.#journalPath(path);
    // Synchronous, as the journal's reads (see readIfExists).
    creatingDirectory(this.#tmpDir, () => writeFileSync(tmp, content));
    creatingDirectory(this.#journalDir, () => renameSync(tmp, dest));
  }

  /** The journal as it is now: branch path to the file's exact bytes. */
  #snapshotJournal(): Promise<Map<string, Buffer>> {
    return readJournalDir(this.#journalDir);
  }

  /**
   * Commits the journal to `refs/heads/git-annex` and returns the new
   * commit, or null when there was nothing to commit.
   *
   * The tree is the branch's tree with each journal file's content in
   * place of the file's; the ref moves by compare-and-swap, and a journal
   * file is removed afterwards only if it still holds what was committed
   * (a newer write stays for the next commit). When the branch moved
   * under us, files it changed meanwhile are union-merged with the
   * journal's version instead of replaced. Two races with a concurrent
   * stock git-annex, which does not see our locks, are repaired the same
   * way: a journal write of ours that git-annex staged-and-removed before
   * seeing it, and a commit of ours that git-annex's non-atomic ref
   * update overwrote (detected because our last commit must stay an
   * ancestor of the branch).
   */
  commit(message = "update"): Promise<string | null> {
    return this.#queued(() => this.#commit(message));
  }

  async #commit(message: string): Promise<string | null> {
    // Nothing of ours and an empty journal: nothing to commit, and no
    // need to look for git-annex's lock (a command that only read).
    if (this.#written.size === 0 && this.#lastCommit === null && journalIsEmpty(this.#journalDir)) {
      return null;
    }
    /** Paths the branch changed while we were trying to commit. */
    const moved = new Set<string>();
    let previousTip: string | null = null;
    return untilRefSwapped("committing", async () => {
      await waitUnlocked(this.#journalLock, LOCK_WAIT_MS);
      const tip = await this.#ensureBranch();
      if (previousTip !== null && previousTip !== tip) {
        for (const d of await this.git.diffTrees(previousTip, tip)) moved.add(d.path);
      }
      const { snapshot, contents, written, settled, lost } = await this.#pending(tip, moved);
      if (contents.size === 0 && lost === null) {
        this.#forgetWritten(written, settled);
        return null;
      }
      // Blobs, trees and commit in one fast-import pack (see commit-files.ts).
      const identity = await this.#commitIdentity();
      const made = await this.git.commitFiles(
        {
          from: tip,
          merges: lost === null ? [] : [lost],
          changes: [...contents].map(([path, content]) => ({ path, content })),
          message,
          author: identity.author,
          committer: identity.committer,
        },
        this.#commitWriter,
      );
      if (made.tree === made.parentTree && lost === null) {
        // The journal only holds what the branch already has (someone
        // committed it, or it is being rewritten to the same content).
        await this.#cleanJournal(snapshot);
        this.#forgetWritten(written, settled);
        return null;
      }
      const commit = made.commit;
      const reason = `git-annex branch ${message}`;
      if (await this.git.updateRef(BRANCH_REF, commit, tip, reason, this.#refUpdates)) {
        this.#lastCommit = commit;
        this.#lastCommitPaths = lost === null ? new Set(contents.keys()) : null;
        await this.#cleanJournal(snapshot);
        this.#forgetWritten(written, settled);
        return commit;
      }
      previousTip = tip;
      return LOST_RACE;
    });
  }

  /**
   * What the next commit onto `tip` holds: the journal (union-merged with
   * the branch's version of files in `moved`), our own journal writes that
   * another writer dropped, and a commit of ours that was lost.
   */
  async #pending(tip: string, moved: ReadonlySet<string>): Promise<Pending> {
    const snapshot = await this.#snapshotJournal();
    const contents = new Map<string, string>();
    for (const [path, raw] of snapshot) {
      const mine = discardIncompleteAppend(raw).toString("utf8");
      contents.set(
        path,
        moved.has(path)
          ? unionMerge([mine, (await this.#committed(tip, path)).toString("utf8")])
          : mine,
      );
    }
    // Journal writes of ours that another writer removed, or replaced
    // without reading them, are merged back in. (A journal file that
    // reappeared since the snapshot is left for the next commit.)
    const written = new Map(this.#written);
    const settled = new Set<string>();
    for (const [path, mine] of written) {
      let current = contents.get(path);
      if (current === undefined) {
        if ((await readIfExists(this.#journalPath(path))) !== null) continue;
        current = (await this.#committed(tip, path)).toString("utf8");
      }
      settled.add(path);
      if (!containsLines(current, mine)) contents.set(path, unionMerge([current, mine]));
    }
    const lost = await this.#lostCommit(tip);
    if (lost !== null) {
      for (const d of await this.git.diffTrees(tip, lost)) {
        const versions = [
          (await this.#committed(tip, d.path)).toString("utf8"),
          (await this.#committed(lost, d.path)).toString("utf8"),
        ];
        const pending = contents.get(d.path);
        contents.set(d.path, unionMerge(pending === undefined ? versions : [pending, ...versions]));
      }
    }
    return { snapshot, contents, written, settled, lost };
  }

  /**
   * Our last commit when something (a stock git-annex `update-ref` that
   * raced ours) has dropped it from the branch, else null. A history
   * rewrite (`transitions.log` changed, as `git annex forget` does) is
   * respected rather than undone.
   */
  async #lostCommit(tip: string): Promise<string | null> {
    const last = this.#lastCommit;
    if (last === null || last === tip || (await this.git.isAncestor(last, tip))) return null;
    const diffs = await this.git.diffTrees(tip, last);
    if (diffs.some((d) => d.path === TRANSITIONS_LOG)) {
      this.#lastCommit = null;
      this.#lastCommitPaths = null;
      return null;
    }
    return last;
  }

  /**
   * Removes the journal files whose content is still what was committed.
   * Never while stock git-annex holds the journal lock: it may be staging
   * the same files, and it fails when one it staged has gone. Files left
   * behind hold committed content and go with a later commit.
   */
  async #cleanJournal(snapshot: ReadonlyMap<string, Buffer>): Promise<void> {
    const entries = [...snapshot];
    // A batch at a time, looking for git-annex's lock before each.
    for (let from = 0; from < entries.length; from += JOURNAL_BATCH) {
      if (!(await waitUnlocked(this.#journalLock, LOCK_WAIT_MS))) return;
      const busy: [string, Buffer][] = [];
      for (const [path, raw] of entries.slice(from, from + JOURNAL_BATCH)) {
        // A path being changed here right now waits for that change.
        if (this.#paths.busy(path)) busy.push([path, raw]);
        else removeIfUnchangedSync(this.#journalPath(path), raw);
      }
      for (const [path, raw] of busy) {
        await this.#paths.run(path, async () =>
          removeIfUnchangedSync(this.#journalPath(path), raw),
        );
      }
    }
  }

  /** Drops remembered writes that this commit settled and nobody redid since. */
  #forgetWritten(seen: ReadonlyMap<string, string>, settled: ReadonlySet<string>): void {
    for (const [path, content] of seen) {
      if (settled.has(path) && this.#written.get(path) === content) this.#written.delete(path);
    }
    if (this.#written.size === 0) this.#uncommittedSince = null;
  }

  /**
   * How long the oldest change this process made is waiting to be
   * committed (seconds; 0 when everything is committed): the lag of the
   * branch behind the journal, which a commit failing or a repository
   * busy for a long time makes grow.
   */
  /**
   * This process's newest commit of the journal and the files it changed;
   * null when its newest commit was something else (a merge, a cleanup).
   * A reader that sees the branch at this commit knows what moved it.
   */
  lastJournalCommit(): { readonly commit: string; readonly paths: ReadonlySet<string> } | null {
    const commit = this.#lastCommit;
    const paths = this.#lastCommitPaths;
    return commit !== null && paths !== null ? { commit, paths } : null;
  }

  uncommittedSeconds(): number {
    const since = this.#uncommittedSince;
    return since === null ? 0 : (performance.now() - since) / 1000;
  }

  /**
   * Grafts the tree `tree` into the branch as the top-level entry `name`
   * and takes it out again, in two commits ("graft", then "graft cleanup"
   * with the branch's own tree), so `tree` stays reachable from the
   * branch and every clone fetches it (Annex/Branch.hs `rememberTreeish`).
   * The journal is not committed by this. Returns the new branch tip.
   */
  rememberTree(tree: string, name: string): Promise<string> {
    return this.#queued(() =>
      untilRefSwapped("grafting", async () => {
        await waitUnlocked(this.#journalLock, LOCK_WAIT_MS);
        const tip = await this.#ensureBranch();
        const own = await this.git.revParse(`${tip}^{tree}`);
        if (own === null) throw new BranchError("AG_BRANCH_CONFLICT", "the branch has no tree");
        const grafted = await graftTopLevel(this.git, own, name, tree);
        const graft = await this.#commitObject(grafted, [tip], "graft");
        const cleanup = await this.#commitObject(own, [graft], "graft cleanup");
        if (!(await this.git.updateRef(BRANCH_REF, cleanup, tip, "graft"))) return LOST_RACE;
        this.#lastCommit = cleanup;
        this.#lastCommitPaths = null;
        return cleanup;
      }),
    );
  }

  /**
   * Merges every `refs/remotes/.../git-annex` that has commits the branch
   * lacks (after a `git fetch`), as git-annex does before it reads the
   * branch: the journal is committed first, then the refs are
   * union-merged file by file into one commit whose parents are the
   * branch and the refs (or the branch is fast-forwarded when one ref
   * contains everything). The ref moves by compare-and-swap; when the
   * branch moved meanwhile the merge is planned again. Refs whose
   * transitions.log differs (history rewritten by `git annex forget`)
   * are left for stock git-annex to merge. Returns the refs merged.
   */
  mergeRemoteBranches(): Promise<string[]> {
    return this.#queued(async () => {
      const refs = await listRemoteBranches(this.git);
      if (refs.length === 0) return [];
      // Refs as they were when last found merged (or left for stock
      // git-annex): nothing new to merge, so no journal commit either. A
      // server calls this at every configuration check.
      const seen = refs.map((r) => `${r.sha} ${r.ref}`).join("\n");
      if (seen === this.#settledRefs) return [];
      await this.#commit("update");
      return untilRefSwapped("merging", async (): Promise<string[] | typeof LOST_RACE> => {
        await waitUnlocked(this.#journalLock, LOCK_WAIT_MS);
        const tip = await this.#ensureBranch();
        const { plan } = await planMerge(this.git, this.#cat, tip, refs);
        if (plan.kind === "none") {
          this.#settledRefs = seen;
          return [];
        }
        const target =
          plan.kind === "fast-forward"
            ? plan.to.sha
            : await this.#commitObject(plan.tree, plan.parents, plan.message);
        const reason = plan.kind === "merge" ? plan.message : "git-annex branch fast-forward";
        if (await this.git.updateRef(BRANCH_REF, target, tip, reason)) {
          this.#lastCommit = target;
          this.#lastCommitPaths = null;
          this.#settledRefs = seen;
          return plan.merged.map((r) => r.ref);
        }
        return LOST_RACE;
      });
    });
  }

  /**
   * Commits changes in the background: at most `delayMs` after a change,
   * one commit per burst of changes.
   */
  startAutoCommit(opts: AutoCommitOptions = {}): void {
    this.#checkOpen();
    const onError =
      opts.onError ??
      ((err: unknown) => {
        process.emitWarning(`annexgate: git-annex branch commit failed: ${String(err)}`);
      });
    this.#auto = { delayMs: opts.delayMs ?? 1000, onError, timer: null, failures: 0 };
    if (this.#written.size > 0) this.#scheduleAutoCommit();
  }

  #scheduleAutoCommit(): void {
    const auto = this.#auto;
    if (auto === null || auto.timer !== null || this.#closing !== null) return;
    const wait = Math.min(auto.delayMs * 2 ** auto.failures, Math.max(auto.delayMs, MAX_RETRY_MS));
    auto.timer = setTimeout(() => {
      this.#commits
        .run("", () => this.#commit("update"))
        .then(
          () => {
            auto.failures = 0;
          },
          (err: unknown) => {
            auto.failures += 1;
            auto.onError(err);
          },
        )
        .finally(() => {
          auto.timer = null;
          // Changes made while that commit ran, or the failed commit.
          if (auto.failures > 0 || this.#written.size > 0) this.#scheduleAutoCommit();
        });
    }, wait);
    // The journal is on disk; an exiting process loses nothing by not waiting.
    auto.timer.unref();
  }

  /**
   * Waits for changes in progress, commits the journal, and stops the
   * cat-file process. Further use throws AG_BRANCH_CLOSED. Idempotent.
   * With `leaveJournal`, the journal is left for the next git-annex
   * command to commit, as git-annex's own commands leave it.
   */
  close(opts: { readonly leaveJournal?: boolean } = {}): Promise<void> {
    if (this.#closing === null) this.#closing = this.#shutdown(opts.leaveJournal === true);
    return this.#closing;
  }

  async #shutdown(leaveJournal: boolean): Promise<void> {
    const auto = this.#auto;
    if (auto?.timer != null) clearTimeout(auto.timer);
    this.#auto = null;
    try {
      await this.#paths.idle();
      if (!leaveJournal) await this.#commits.run("", () => this.#commit("update"));
    } finally {
      await this.#commitWriter.close();
      await this.#refUpdates.close();
      await this.#cat.close();
    }
  }
}

/** Whether the journal directory holds no file (or does not exist). */
function journalIsEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/** Who our commits are by; `env` only when git has no identity of its own. */
interface CommitIdentity {
  readonly author: Ident;
  readonly committer: Ident;
  /** For commit-tree: the fallback identity as GIT_AUTHOR_NAME and friends. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The identity our commits carry: git's own (`git var`), or, when git has
 * no usable identity configured, user@host. git-annex writes
 * user.name/user.email into the repository then (Annex/Environment.hs
 * `ensureCommit`); we only use them for our own commits.
 */
async function commitIdentity(git: Git): Promise<CommitIdentity> {
  const [author, committer] = await Promise.all([git.ident("author"), git.ident("committer")]);
  if (author !== null && committer !== null) return { author, committer };
  let name = "annexgate";
  try {
    name = userInfo().username || name;
  } catch {
    // no passwd entry; keep the default
  }
  const email = `${name}@${hostname() || "localhost"}`;
  return {
    author: { name, email },
    committer: { name, email },
    env: {
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: email,
    },
  };
}
