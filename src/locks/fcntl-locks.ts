/**
 * POSIX fcntl record locks, which git-annex takes on content lock files and
 * Node cannot take itself. A small perl helper (perl comes with git on every
 * Debian-like system) is started on first use and holds the locks on this
 * process's behalf; requests and answers are lines on its stdin/stdout.
 *
 * fcntl locks belong to the process holding them: if the helper dies, every
 * lock it held is gone. Handles it held are then marked lost, `onLost` is
 * told, and the next request starts a new helper.
 *
 * Each lock is a whole-file lock (start 0, length 0), taken without
 * blocking, after which the helper checks that the path still names the
 * file it opened (git-annex's checkSaneLock): a lock on a file that another
 * process has just deleted protects nothing, so it counts as busy.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { AnnexgateError } from "../errors.js";
import { SharedFlight } from "../util/index.js";
import { HELPER_SCRIPT } from "./fcntl-helper-script.js";

export class FcntlLockError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_FCNTL_LOCK", message, data, cause);
  }
}

export type LockKind = "shared" | "exclusive";

/** One lock held by the helper. */
export interface FcntlLock {
  readonly path: string;
  readonly kind: LockKind;
  /** True once the helper holding it has died: the lock no longer holds. */
  readonly lost: boolean;
  /** Drop the lock (closes the helper's descriptor); harmless when lost. */
  release(): Promise<void>;
}

export interface FcntlLocksOptions {
  /** Told the paths of the locks that were held when a helper died. */
  readonly onLost?: (paths: readonly string[], reason: string) => void;
  /** The perl to run (default `perl` from PATH). */
  readonly perl?: string;
}

type Answer = { kind: "ok" } | { kind: "busy" } | { kind: "error"; errno: number; text: string };

interface Helper {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Promise<void>;
  readonly pending: Map<number, (a: Answer) => void>;
  readonly held: Map<number, HeldLock>;
  /** Until READY, a start is awaited: that too keeps the process alive. */
  starting: boolean;
  dead: string | null;
}

class HeldLock implements FcntlLock {
  lost = false;
  #released = false;

  readonly #id: number;
  readonly #helper: Helper;
  readonly #owner: FcntlLocks;

  constructor(
    readonly path: string,
    readonly kind: LockKind,
    id: number,
    helper: Helper,
    owner: FcntlLocks,
  ) {
    this.#id = id;
    this.#helper = helper;
    this.#owner = owner;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#helper.held.delete(this.#id);
    if (this.lost || this.#helper.dead !== null) return;
    await this.#owner.request(this.#helper, this.#id, `U\t${this.#id}`);
  }
}

function defaultOnLost(paths: readonly string[], reason: string): void {
  process.stderr.write(
    `annexgate: the fcntl lock helper ended (${reason}); ${paths.length} content lock(s) it held are lost\n`,
  );
}

/** After the helper failed to start, how long lock questions go without it. */
const PEEK_RETRY_MS = 60_000;

/** A path as the helper reads it (hex: any byte but newline and NUL). */
function hexPath(path: string): string {
  if (path.includes("\n") || path.includes("\0")) {
    throw new FcntlLockError("a lock file path cannot hold a newline or NUL");
  }
  return Buffer.from(path, "utf8").toString("hex");
}

/** The errno of a failed open that means "cannot lock: not there". */
export const ENOENT = osConstants.errno.ENOENT;
export const EACCES = osConstants.errno.EACCES;

export class FcntlLocks {
  #helper: Helper | null = null;
  #nextId = 1;
  readonly #peeks = new SharedFlight<string, boolean>();
  #peekUnavailableUntil = 0;
  readonly #onLost: (paths: readonly string[], reason: string) => void;
  readonly #perl: string;

  constructor(opts: FcntlLocksOptions = {}) {
    this.#onLost = opts.onLost ?? defaultOnLost;
    this.#perl = opts.perl ?? "perl";
  }

  /**
   * Try to lock `path` (created, mode 0644 less the umask, when missing)
   * without waiting. Null when another process holds a conflicting lock or
   * the path no longer names the file that was locked. Throws
   * FcntlLockError (with `data.errno`) when the file cannot be opened.
   */
  async tryLock(path: string, kind: LockKind): Promise<FcntlLock | null> {
    const hex = hexPath(path);
    const helper = this.#current();
    await helper.ready;
    const id = this.#nextId++;
    const answer = await this.request(
      helper,
      id,
      `L\t${id}\t${kind === "shared" ? "r" : "w"}\t${hex}`,
    );
    if (answer.kind === "busy") return null;
    if (answer.kind === "error") {
      throw new FcntlLockError(`cannot lock ${path}: ${answer.text}`, {
        path,
        errno: answer.errno,
      });
    }
    const lock = new HeldLock(path, kind, id, helper, this);
    helper.held.set(id, lock);
    return lock;
  }

  /**
   * Whether another process holds a write lock on `path` (false when it
   * is missing): how annexgate sees git-annex's journal lock, which it
   * looks for rather than takes. Asks the kernel (F_GETLK), so it does
   * not read /proc/locks, whose every read takes a system-wide lock and
   * can wait for an RCU grace period (0.1 to 20 ms measured). Questions
   * about one path asked while one is in flight share its answer. A file
   * this process locks itself is refused. Throws FcntlLockError then, and
   * when the helper cannot run or the file cannot be opened.
   */
  isWriteLocked(path: string): Promise<boolean> {
    return this.#peeks.run(path, () => this.#peek(path));
  }

  async #peek(path: string): Promise<boolean> {
    const hex = hexPath(path);
    // A helper that cannot start is not started again for every question
    // (a journal write asks one each time, and waiting polls).
    if (performance.now() < this.#peekUnavailableUntil) {
      throw new FcntlLockError("the fcntl helper could not start a moment ago");
    }
    const helper = this.#current();
    try {
      await helper.ready;
    } catch (e) {
      this.#peekUnavailableUntil = performance.now() + PEEK_RETRY_MS;
      throw e;
    }
    const id = this.#nextId++;
    const answer = await this.request(helper, id, `G\t${id}\t${hex}`);
    if (answer.kind === "error") {
      throw new FcntlLockError(`cannot look for a lock on ${path}: ${answer.text}`, {
        path,
        errno: answer.errno,
      });
    }
    return answer.kind === "busy";
  }

  /** The running helper's process id (for diagnostics), or null. */
  helperPid(): number | null {
    const h = this.#helper;
    return h && h.dead === null ? (h.child.pid ?? null) : null;
  }

  /** Stop the helper; every lock it holds is released by its exit. */
  close(): void {
    const h = this.#helper;
    this.#helper = null;
    if (!h || h.dead !== null) return;
    h.dead = "closed";
    for (const lock of h.held.values()) lock.lost = true;
    h.held.clear();
    h.child.stdin.end();
  }

  /** @internal Send one request line and wait for its answer. */
  request(helper: Helper, id: number, line: string): Promise<Answer> {
    if (helper.dead !== null) {
      return Promise.reject(new FcntlLockError(`the fcntl lock helper ended: ${helper.dead}`));
    }
    return new Promise<Answer>((resolve) => {
      helper.pending.set(id, resolve);
      this.#refWhileBusy(helper);
      helper.child.stdin.write(`${line}\n`);
    }).then((a) => {
      this.#refWhileBusy(helper);
      return a;
    });
  }

  /** Keep the event loop alive only while an answer is awaited. */
  #refWhileBusy(helper: Helper): void {
    const busy = helper.dead === null && (helper.starting || helper.pending.size > 0);
    const { stdout, stdin, stderr } = helper.child;
    const streams = [stdout, stdin, stderr] as unknown as {
      ref?: () => void;
      unref?: () => void;
    }[];
    if (busy) helper.child.ref();
    else helper.child.unref();
    for (const s of streams) (busy ? s.ref : s.unref)?.call(s);
  }

  #current(): Helper {
    if (this.#helper && this.#helper.dead === null) return this.#helper;
    this.#helper = this.#start();
    return this.#helper;
  }

  #start(): Helper {
    const child = spawn(this.#perl, ["-e", HELPER_SCRIPT], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const pending = new Map<number, (a: Answer) => void>();
    let readyResolve!: () => void;
    let readyReject!: (e: unknown) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => undefined); // observed by whoever awaits it
    const helper: Helper = {
      child,
      ready,
      pending,
      held: new Map(),
      starting: true,
      dead: null,
    };
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString("utf8");
    });
    child.stdin.on("error", () => undefined); // reported through 'exit'
    let buffered = "";
    child.stdout.on("data", (d: Buffer) => {
      buffered += d.toString("utf8");
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === "READY") {
          helper.starting = false;
          this.#refWhileBusy(helper);
          readyResolve();
        } else this.#answer(helper, line);
      }
    });
    const die = (reason: string) => {
      if (helper.dead !== null && helper.dead !== "closed") return;
      const wasClosed = helper.dead === "closed";
      helper.dead = reason;
      readyReject(
        new FcntlLockError(`cannot start the fcntl lock helper (${this.#perl}): ${reason}`),
      );
      const lost = [...helper.held.values()];
      helper.held.clear();
      for (const lock of lost) lock.lost = true;
      for (const resolve of pending.values()) {
        resolve({ kind: "error", errno: 0, text: `the fcntl lock helper ended: ${reason}` });
      }
      pending.clear();
      if (!wasClosed && lost.length > 0)
        this.#onLost(
          lost.map((l) => l.path),
          reason,
        );
      if (this.#helper === helper) this.#helper = null;
    };
    child.once("error", (e) => die(e.message));
    child.once("exit", (code, signal) => {
      const why = stderr.trim().split("\n")[0] ?? "";
      die(`exited with ${signal ?? `code ${code}`}${why ? `: ${why}` : ""}`);
    });
    this.#refWhileBusy(helper);
    return helper;
  }

  #answer(helper: Helper, line: string): void {
    const [tag, idText, errnoText, ...rest] = line.split("\t");
    const id = Number(idText);
    const resolve = helper.pending.get(id);
    if (!resolve) return;
    helper.pending.delete(id);
    if (tag === "K") resolve({ kind: "ok" });
    else if (tag === "B") resolve({ kind: "busy" });
    else resolve({ kind: "error", errno: Number(errnoText), text: rest.join("\t") });
  }
}

let processLocks: FcntlLocks | null = null;

/**
 * The process's one lock helper: fcntl locks are per process, so two
 * descriptors on one file in one helper would release each other's locks;
 * everything in a process shares this one.
 */
export function processFcntlLocks(): FcntlLocks {
  processLocks ??= new FcntlLocks();
  return processLocks;
}
