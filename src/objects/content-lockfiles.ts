/**
 * Content locks that stock git-annex sees, taken the way git-annex 10 takes
 * them in v10+ repositories (Annex/Content.hs, lockContentShared and
 * lockContentForRemoval):
 *
 * - the lock file is `<object file>.lck`, beside the object in its key
 *   directory, locked with a whole-file fcntl lock: shared (read lock)
 *   while content is locked, exclusive (write lock) to remove it;
 * - a shared lock also writes a retention timestamp, `<object file>.rtm`
 *   (POSIX seconds, written whole under an exclusive lock on `.rtl`), so the
 *   content stays protected for a while even if the process holding the
 *   lock dies; a removal is refused while that time is in the future;
 * - releasing a shared lock converts it to an exclusive one, which only
 *   succeeds when no other process holds a shared lock, and only then
 *   deletes the lock file (and the timestamp it wrote). Every lock checks
 *   afterwards that the path still names the file it locked.
 *
 * fcntl locks are per process, so two holders in one process share one OS
 * lock here (counted), and everything for one lock file takes turns.
 */
import { chmod, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  EACCES,
  ENOENT,
  type FcntlLock,
  FcntlLockError,
  type FcntlLocks,
  type LockKind,
  processFcntlLocks,
} from "../locks/index.js";
import { countedKeyMutex } from "./lock-counts.js";
import { DEFAULT_LOCK_RETENTION_MS } from "./locks.js";

/** A shared lock on some content; release it once. */
export interface SharedContentLock {
  release(): Promise<void>;
}

interface SharedState {
  count: number;
  lock: FcntlLock;
  /** The retention timestamp text this process wrote, if it did. */
  retention: string | null;
}

function errnoOf(e: unknown): number | undefined {
  return e instanceof FcntlLockError ? (e.data.errno as number | undefined) : undefined;
}

/**
 * Run `fn` with `dir` writable by its owner: object directories are frozen
 * read-only, and lock and timestamp files are made and removed inside them.
 */
async function withWritableDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  let mode: number;
  try {
    mode = (await stat(dir)).mode & 0o7777;
  } catch {
    return fn(); // not there: fn reports that its own way
  }
  if ((mode & 0o200) !== 0) return fn();
  await chmod(dir, mode | 0o200);
  try {
    return await fn();
  } finally {
    await chmod(dir, mode).catch(() => undefined);
  }
}

/** Parse a retention timestamp as git-annex writes it ("1712345678.25s"). */
function parseRetention(text: string): number | null {
  const m = /^(-?\d+)(\.\d*)?s?$/.exec(text.trim());
  return m ? Number(`${m[1]}${m[2] ?? ""}`) : null;
}

export class AnnexContentLockFiles {
  readonly #turns = countedKeyMutex();
  readonly #shared = new Map<string, SharedState>();

  readonly #fcntl: FcntlLocks;
  readonly #retentionMs: number;

  constructor(fcntl: FcntlLocks = processFcntlLocks(), retentionMs = DEFAULT_LOCK_RETENTION_MS) {
    this.#fcntl = fcntl;
    this.#retentionMs = retentionMs;
  }

  /**
   * Take a shared lock on the content at `objectFile`: null when a removal
   * holds it (in any process) or the content's directory is not there.
   */
  lockShared(objectFile: string): Promise<SharedContentLock | null> {
    const lck = `${objectFile}.lck`;
    return this.#turns.run(lck, async () => {
      let state = this.#shared.get(lck);
      if (!state || state.lock.lost) {
        const lock = await this.#take(lck, "shared");
        if (!lock) return null;
        if (state) state.lock = lock;
        else {
          state = { count: 0, lock, retention: null };
          this.#shared.set(lck, state);
        }
        state.retention = (await this.#writeRetention(objectFile)) ?? state.retention;
      }
      state.count++;
      return this.#handle(lck, objectFile, state);
    });
  }

  /**
   * Run `fn` (which removes the content) while holding the exclusive lock,
   * then delete the lock file. Null, without running `fn`, while any
   * process holds a shared lock or a retention timestamp is in the future.
   */
  whileRemoving<T>(objectFile: string, fn: () => Promise<T>): Promise<T | null> {
    const lck = `${objectFile}.lck`;
    return this.#turns.run(lck, async () => {
      if ((this.#shared.get(lck)?.count ?? 0) > 0) return null;
      const rtm = `${objectFile}.rtm`;
      const retention = await this.#readRetention(rtm);
      if (retention !== null && retention >= Date.now() / 1000) return null;
      const lock = await this.#take(lck, "exclusive");
      if (!lock) return null;
      try {
        if (retention !== null) await this.#removeRetention(objectFile);
        const result = await fn();
        await withWritableDir(dirname(lck), () => rm(lck, { force: true }));
        return result;
      } finally {
        await lock.release();
      }
    });
  }

  #handle(lck: string, objectFile: string, state: SharedState): SharedContentLock {
    let released = false;
    return {
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        return this.#turns.run(lck, () => this.#releaseShared(lck, objectFile, state));
      },
    };
  }

  async #releaseShared(lck: string, objectFile: string, state: SharedState): Promise<void> {
    state.count--;
    if (state.count > 0) return;
    if (this.#shared.get(lck) === state) this.#shared.delete(lck);
    await state.lock.release();
    // Only when no other process holds it too can the lock file go.
    const exclusive = await this.#take(lck, "exclusive").catch(() => null);
    if (!exclusive) return;
    try {
      const rtm = `${objectFile}.rtm`;
      if (state.retention !== null) {
        const now = await readFile(rtm, "utf8").catch(() => null);
        if (now === state.retention) await this.#removeRetention(objectFile);
      }
      await withWritableDir(dirname(lck), () => rm(lck, { force: true }));
    } finally {
      await exclusive.release();
    }
  }

  /** Lock `lck`, null when busy or when its directory is gone. */
  async #take(lck: string, kind: LockKind): Promise<FcntlLock | null> {
    try {
      return await this.#fcntl.tryLock(lck, kind);
    } catch (e) {
      const errno = errnoOf(e);
      if (errno === ENOENT) return null;
      if (errno !== EACCES) throw e;
    }
    // A frozen key directory: the lock file must be made inside it.
    return withWritableDir(dirname(lck), () => this.#fcntl.tryLock(lck, kind)).catch((e) => {
      if (errnoOf(e) === ENOENT) return null;
      throw e;
    });
  }

  async #readRetention(rtm: string): Promise<number | null> {
    const text = await readFile(rtm, "utf8").catch(() => null);
    return text === null ? null : parseRetention(text);
  }

  /**
   * Write the retention timestamp unless a later one is there. Another
   * writer holding `.rtl` is writing its own, which protects as long: then
   * nothing is written. Returns the text written.
   */
  async #writeRetention(objectFile: string): Promise<string | null> {
    const until = (Date.now() + this.#retentionMs) / 1000;
    const text = `${until.toFixed(3)}s`;
    const rtl = await this.#take(`${objectFile}.rtl`, "exclusive").catch(() => null);
    if (!rtl) return null;
    try {
      const rtm = `${objectFile}.rtm`;
      const existing = await this.#readRetention(rtm);
      if (existing !== null && existing >= until) return null;
      const tmp = `${rtm}.${process.pid}.tmp`;
      await withWritableDir(dirname(rtm), async () => {
        await writeFile(tmp, text);
        await rename(tmp, rtm);
      });
      return text;
    } finally {
      await rtl.release();
    }
  }

  /** Remove the timestamp and its lock file (an exclusive lock is held). */
  async #removeRetention(objectFile: string): Promise<void> {
    await withWritableDir(dirname(objectFile), async () => {
      await rm(`${objectFile}.rtm`, { force: true });
      await rm(`${objectFile}.rtl`, { force: true });
    });
  }
}

let processContentLocks: AnnexContentLockFiles | null = null;

/** The process's one set of content lock files (see the module comment). */
export function processContentLockFiles(): AnnexContentLockFiles {
  processContentLocks ??= new AnnexContentLockFiles();
  return processContentLocks;
}
