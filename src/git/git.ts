import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeBlobs } from "./blob-writer.js";
import {
  type CommitFilesOptions,
  type CommitFilesResult,
  commitFiles,
  type Ident,
} from "./commit-files.js";
import type { CommitWriter } from "./commit-writer.js";
import { GitError } from "./errors.js";
import { cleanEnv, execGit, type Finished, failure, firstLine } from "./exec.js";
import type { RefUpdates } from "./ref-updates.js";
import { type RefEntry, RefFiles, UNKNOWN } from "./refs.js";

/** Options for one git command. */
export interface RunOptions {
  /** Bytes fed to git's stdin (stdin is closed when omitted). */
  readonly input?: Buffer | string;
  /** Extra environment variables, on top of the repository's own. */
  readonly env?: Readonly<Record<string, string>>;
}

/** One entry of a single-level tree, as `git mktree` takes it. */
export interface TreeEntry {
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly sha: string;
  /** A name inside the tree: no "/" and no NUL. */
  readonly name: string;
}

/** A change to make to a tree: `sha` null removes `path`. */
export interface TreeChange {
  /** Path from the top of the tree, "/"-separated. */
  readonly path: string;
  readonly sha: string | null;
  /** File mode; "100644" (a regular file) unless given. */
  readonly mode?: string;
}

/** One path that differs between two trees; a null sha means "absent". */
export interface TreeDiff {
  readonly path: string;
  readonly oldSha: string | null;
  readonly newSha: string | null;
}

/** Options for {@link Git.commitTree}. */
export interface CommitOptions {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
  /** E.g. GIT_AUTHOR_NAME and friends when git has no identity configured. */
  readonly env?: Readonly<Record<string, string>>;
}

/** `changes` in git's index order (bytewise by path), keeping the order of equal paths. */
function sortedByPath(changes: readonly TreeChange[]): TreeChange[] {
  const keyed = changes.map((c) => ({ c, key: Buffer.from(c.path, "utf8") }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.c);
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function checkSha(s: string, what: string): string {
  if (!SHA.test(s))
    throw new GitError(`not an object id: ${what} ${JSON.stringify(s)}`, { args: [] });
  return s;
}

/**
 * One git repository, driven through git's plumbing commands. Every
 * command runs with the repository's git directory pinned (GIT_DIR), so
 * the caller's environment cannot redirect it elsewhere.
 *
 * @example
 * const git = await Git.open("/srv/annex/repo.git");
 * const tip = await git.revParse("refs/heads/git-annex");
 */
export class Git {
  /** The work tree's top, or the git directory of a bare repository. */
  readonly dir: string;
  /** Absolute path of the git directory (".git" or the bare repository). */
  readonly gitDir: string;
  readonly bare: boolean;
  readonly #env: Record<string, string>;
  /** Refs read from git's own files, without a git process (see refs.ts). */
  readonly #refs: RefFiles;

  private constructor(dir: string, gitDir: string, bare: boolean) {
    this.dir = dir;
    this.gitDir = gitDir;
    this.bare = bare;
    this.#env = { ...cleanEnv(), GIT_DIR: gitDir };
    this.#refs = new RefFiles(gitDir);
  }

  /**
   * Finds the repository that `dir` is in (`git rev-parse`), and whether
   * it is bare. Throws GitError when `dir` is not in a git repository.
   */
  static async open(dir: string): Promise<Git> {
    const cwd = resolve(dir);
    const env = cleanEnv();
    // One git for all three: in a bare repository (or inside a .git)
    // --show-toplevel fails after the first two lines were printed.
    const args = ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--show-toplevel"];
    const r = await execGit(args, cwd, env, undefined);
    const [gitDir, bare, top] = r.stdout.toString("utf8").split("\n");
    if (r.exitCode !== 0 && (gitDir === undefined || gitDir === "" || bare !== "true")) {
      throw failure(args, r);
    }
    if (gitDir === undefined || gitDir === "" || (bare !== "true" && bare !== "false")) {
      throw new GitError("unexpected output from git rev-parse", { args, stderr: r.stderr });
    }
    if (bare === "true") return new Git(gitDir, gitDir, true);
    if (top === undefined || top === "") {
      throw new GitError("unexpected output from git rev-parse", { args, stderr: r.stderr });
    }
    return new Git(top, gitDir, false);
  }

  /** The environment git commands of this repository run with. */
  environment(extra?: Readonly<Record<string, string>>): Record<string, string> {
    return extra === undefined ? { ...this.#env } : { ...this.#env, ...extra };
  }

  async #exec(args: readonly string[], opts: RunOptions = {}): Promise<Finished> {
    return execGit(args, this.dir, this.environment(opts.env), opts.input);
  }

  /**
   * Runs `git <args>` and returns its stdout. A non-zero exit is a
   * GitError carrying git's stderr.
   */
  async run(args: readonly string[], opts: RunOptions = {}): Promise<Buffer> {
    const r = await this.#exec(args, opts);
    if (r.exitCode !== 0) throw failure(args, r);
    return r.stdout;
  }

  /** The value of a git config setting (the last one, if several), or null. */
  async configGet(name: string): Promise<string | null> {
    const args = ["config", "--get", name];
    const r = await this.#exec(args);
    if (r.exitCode === 1) return null;
    if (r.exitCode !== 0) throw failure(args, r);
    return r.stdout.toString("utf8").replace(/\n$/, "");
  }

  /** Sets a git config setting in the repository's own config file. */
  async configSet(name: string, value: string): Promise<void> {
    await this.run(["config", name, value]);
  }

  /**
   * The object id `ref` names, or null when it names nothing. A full ref
   * name (refs/…) is read from git's files when they tell.
   */
  async revParse(ref: string): Promise<string | null> {
    if (ref.startsWith("-"))
      throw new GitError(`bad revision ${JSON.stringify(ref)}`, { args: [] });
    const known = this.#refs.readSync(ref);
    if (known !== UNKNOWN) return known;
    const args = ["rev-parse", "--verify", "--quiet", ref];
    const r = await this.#exec(args);
    if (r.exitCode === 1) return null;
    if (r.exitCode !== 0) throw failure(args, r);
    return checkSha(firstLine(r.stdout), "rev-parse");
  }

  /**
   * The object id git's files say the full ref name `ref` (refs/…) names,
   * read now without running git; null when it is absent or only git can
   * tell (a linked work tree, reftable, a symbolic ref).
   */
  refFromFiles(ref: string): string | null {
    const known = this.#refs.readSync(ref);
    return known === UNKNOWN ? null : known;
  }

  /**
   * Every ref under `prefix` (ending in "/") whose name `wanted` accepts,
   * with its object id, in name order; read from git's files when they
   * tell, else from `git for-each-ref`.
   */
  async listRefs(prefix: string, wanted: (ref: string) => boolean): Promise<RefEntry[]> {
    const known = await this.#refs.list(prefix, wanted);
    if (known !== UNKNOWN) return known;
    const out = await this.run(["for-each-ref", "--format=%(objectname) %(refname)", prefix]);
    const refs: RefEntry[] = [];
    for (const line of out.toString("utf8").split("\n")) {
      const sp = line.indexOf(" ");
      const ref = line.slice(sp + 1);
      if (sp > 0 && wanted(ref)) refs.push({ ref, sha: line.slice(0, sp) });
    }
    return refs;
  }

  /** Writes a blob (`git hash-object -w --stdin`) and returns its id. */
  async hashObject(content: Buffer | string): Promise<string> {
    const out = await this.run(["hash-object", "-w", "--stdin"], { input: content });
    return checkSha(firstLine(out), "hash-object");
  }

  /**
   * Writes many blobs with one git process and returns their ids in the
   * same order. The contents stream through `git fast-import` (see
   * blob-writer.ts), so any number of them takes one pipe and no
   * temporary files.
   */
  async hashObjects(contents: readonly (Buffer | string)[]): Promise<string[]> {
    if (contents.length === 0) return [];
    if (contents.length === 1) return [await this.hashObject(contents[0] ?? "")];
    return writeBlobs(this.dir, this.environment(), contents);
  }

  /** Writes a single-level tree (`git mktree`) and returns its id. */
  async mktree(entries: readonly TreeEntry[]): Promise<string> {
    const lines = entries.map((e) => {
      if (e.name === "" || /[/\0]/.test(e.name)) {
        throw new GitError(`bad tree entry name ${JSON.stringify(e.name)}`, { args: ["mktree"] });
      }
      return `${e.mode} ${e.type} ${checkSha(e.sha, "tree entry")}\t${e.name}\0`;
    });
    const out = await this.run(["mktree", "-z"], { input: lines.join("") });
    return checkSha(firstLine(out), "mktree");
  }

  /**
   * Writes the tree that results from applying `changes` to the tree
   * `base` (a tree-ish, or null for the empty tree), and returns its id.
   * Works in a temporary index file, so no index git or git-annex uses
   * is touched, and nested directories are handled by git.
   */
  async editTree(base: string | null, changes: readonly TreeChange[]): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "annexgate-index-"));
    try {
      const env = { GIT_INDEX_FILE: join(dir, "index") };
      await this.run(base === null ? ["read-tree", "--empty"] : ["read-tree", base], { env });
      if (changes.length > 0) {
        // In path order: update-index inserts each entry into a sorted
        // index, and out-of-order input made that quadratic (a minute for
        // 20,000 journal files). The sort is stable, so a later change to
        // the same path still wins.
        const info = sortedByPath(changes).map((c) => {
          if (c.path === "" || c.path.includes("\0") || c.path.startsWith("/")) {
            throw new GitError(`bad tree path ${JSON.stringify(c.path)}`, {
              args: ["update-index"],
            });
          }
          return c.sha === null
            ? `0 ${"0".repeat(40)}\t${c.path}\0`
            : `${c.mode ?? "100644"} ${checkSha(c.sha, "blob")}\t${c.path}\0`;
        });
        await this.run(["update-index", "-z", "--index-info"], { env, input: info.join("") });
      }
      const out = await this.run(["write-tree"], { env });
      return checkSha(firstLine(out), "write-tree");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Makes a commit from a parent and file changes in one `git fast-import`
   * (blobs, trees and commit in one pack; see commit-files.ts) and returns
   * it with its tree and the parent's tree. No ref is changed. `via`: a
   * kept fast-import makes it (see commit-writer.ts).
   */
  commitFiles(opts: CommitFilesOptions, via?: CommitWriter): Promise<CommitFilesResult> {
    return via === undefined ? commitFiles(this.dir, this.environment(), opts) : via.commit(opts);
  }

  /**
   * The author or committer git would use here (`git var`), or null when
   * git has no usable identity (no user.email and no guess it accepts).
   */
  async ident(role: "author" | "committer"): Promise<Ident | null> {
    const args = ["var", role === "author" ? "GIT_AUTHOR_IDENT" : "GIT_COMMITTER_IDENT"];
    const r = await this.#exec(args);
    if (r.exitCode !== 0) return null;
    // "Name <email> 1700000000 +0000"
    const m = /^(.*) <([^<>]*)> \d+ [+-]\d{4}$/.exec(firstLine(r.stdout));
    return m === null ? null : { name: m[1] ?? "", email: m[2] ?? "" };
  }

  /** Writes a commit object (`git commit-tree`) and returns its id. */
  async commitTree(opts: CommitOptions): Promise<string> {
    const args = ["commit-tree", checkSha(opts.tree, "tree")];
    for (const p of opts.parents) args.push("-p", checkSha(p, "parent"));
    // -m, as git-annex uses: git ends the message with a newline.
    args.push("-m", opts.message);
    const out = await this.run(args, opts.env === undefined ? {} : { env: opts.env });
    return checkSha(firstLine(out), "commit-tree");
  }

  /**
   * Compare-and-swap of a ref: points `ref` at `newSha` only if it is
   * currently at `expectedOld` (null: only if it does not exist yet).
   * Returns false, changing nothing, when the ref was elsewhere. `via`:
   * through a kept git, when it logs the same `reason` (see ref-updates.ts).
   */
  async updateRef(
    ref: string,
    newSha: string,
    expectedOld: string | null,
    reason?: string,
    via?: RefUpdates,
  ): Promise<boolean> {
    if (via !== undefined && reason === via.reason) return via.update(ref, newSha, expectedOld);
    const args = ["update-ref"];
    if (reason !== undefined) args.push("-m", reason);
    args.push(
      ref,
      checkSha(newSha, "new value"),
      expectedOld === null ? "" : checkSha(expectedOld, "old value"),
    );
    const r = await this.#exec(args);
    if (r.exitCode === 0) return true;
    const now = await this.revParse(ref);
    if (now !== expectedOld) return false;
    throw failure(args, r);
  }

  /** Whether commit `ancestor` is reachable from commit `descendant`. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const args = [
      "merge-base",
      "--is-ancestor",
      checkSha(ancestor, "commit"),
      checkSha(descendant, "commit"),
    ];
    const r = await this.#exec(args);
    if (r.exitCode === 0) return true;
    if (r.exitCode === 1) return false;
    throw failure(args, r);
  }

  /** The files (recursively) whose content differs between two tree-ishes. */
  async diffTrees(a: string, b: string): Promise<TreeDiff[]> {
    const out = await this.run(["diff-tree", "-r", "-z", "--raw", "--no-renames", a, b, "--"]);
    const fields = out.toString("utf8").split("\0");
    const diffs: TreeDiff[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      // ":100644 100644 <old> <new> M", then the path
      const words = (fields[i] ?? "").split(" ");
      const path = fields[i + 1] ?? "";
      const oldSha = words[2] ?? "";
      const newSha = words[3] ?? "";
      diffs.push({
        path,
        oldSha: /^0+$/.test(oldSha) ? null : oldSha,
        newSha: /^0+$/.test(newSha) ? null : newSha,
      });
    }
    return diffs;
  }
}
