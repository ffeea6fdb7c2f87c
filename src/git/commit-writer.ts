/**
 * Commits made through one long-running `git fast-import` (see
 * commit-files.ts for one commit's conversation): after each commit a
 * `checkpoint` writes its objects out, so the commit is in the repository
 * before its answer is read, and the process waits for the next. A branch
 * committed every second otherwise starts a fast-import for each commit,
 * and each start forks from the server and holds up its event loop.
 *
 * The process is ended after a while unused and after a number of
 * commits (fast-import remembers every object it wrote, and keeps a
 * `.keep` beside each pack it wrote until it ends), and after any
 * failure; the next commit starts a new one. While it waits it holds an
 * empty temporary pack (objects/pack/tmp_pack_*); a program that ends
 * without closing its branch (or is killed) leaves that behind, and the
 * `.keep`s, as a fast-import killed in the middle of a commit did before:
 * `git gc` removes old tmp_pack files, and a kept pack stays a pack of
 * its own. The idle time is short for that reason: under load commits
 * come every second.
 */
import { KeyedMutex } from "../util/index.js";
import {
  type CommitFilesOptions,
  type CommitFilesResult,
  FAST_IMPORT_ARGS,
  writeCommit,
} from "./commit-files.js";
import { FastImport } from "./fast-import.js";
import type { Git } from "./git.js";

/** How long an unused process is kept (ms). */
const IDLE_MS = 2000;
/** Commits one process makes before it is replaced. */
const COMMITS_PER_PROCESS = 60;

export class CommitWriter {
  readonly #git: Git;
  readonly #turns = new KeyedMutex();
  #fi: FastImport | null = null;
  #made = 0;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(git: Git) {
    this.#git = git;
  }

  /** Makes the commit (no ref is changed) and returns it with its tree and its parent's. */
  commit(opts: CommitFilesOptions): Promise<CommitFilesResult> {
    if (this.#closed) return this.#git.commitFiles(opts);
    return this.#turns.run("", () => this.#commit(opts));
  }

  async #commit(opts: CommitFilesOptions): Promise<CommitFilesResult> {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    // A kept process that died while it waited (killed, out of memory)
    // is replaced rather than failing the commit that finds it gone.
    if (this.#fi?.gone) {
      this.#fi = null;
      this.#made = 0;
    }
    this.#fi ??= new FastImport(this.#git.dir, this.#git.environment(), FAST_IMPORT_ARGS);
    const fi = this.#fi;
    fi.keepAlive(true);
    let made: CommitFilesResult;
    try {
      made = await writeCommit(fi, opts, true);
    } catch (err) {
      this.#fi = null;
      this.#made = 0;
      await fi.abort();
      throw err;
    }
    this.#made += 1;
    fi.keepAlive(false);
    if (this.#made >= COMMITS_PER_PROCESS) {
      await this.#end();
    } else {
      this.#idle = setTimeout(() => {
        this.#idle = null;
        void this.#turns.run("", () => this.#end()).catch(() => undefined);
      }, IDLE_MS);
      this.#idle.unref();
    }
    return made;
  }

  /** Ends the process, which removes its packs' `.keep` files; a failure here loses no commit. */
  async #end(): Promise<void> {
    const fi = this.#fi;
    this.#fi = null;
    this.#made = 0;
    if (fi === null) return;
    fi.keepAlive(true); // its end is awaited
    await fi.finish().catch(() => undefined);
  }

  /** Ends the process once the commits under way are done; later commits run one git each. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    await this.#turns.run("", () => this.#end());
  }
}
