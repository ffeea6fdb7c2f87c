/**
 * Compare-and-swap ref updates through one long-running
 * `git update-ref --stdin`, a transaction each (`start`, `update REF NEW
 * OLD`, `commit`), instead of a `git update-ref` per update: a branch
 * committed every second otherwise forks a git process for each commit,
 * and a fork holds up the event loop for milliseconds. Between
 * transactions the process holds no lock; it is ended after a while
 * unused, and when a transaction fails (the ref was elsewhere: git then
 * exits), the next update starts a new one.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { KeyedMutex } from "../util/index.js";
import { GitError } from "./errors.js";
import { setKeepAlive } from "./fast-import.js";
import type { Git } from "./git.js";

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** How long an unused process is kept (ms). */
const IDLE_MS = 2000;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const STDERR_LIMIT = 16 * 1024;

interface Running {
  readonly child: Child;
  /** Answer lines not yet read. */
  readonly lines: string[];
  /** Resolves with the next line, or null when git has exited. */
  waiter: ((line: string | null) => void) | null;
  partial: string;
  stderr: string;
  exited: boolean;
  readonly exit: Promise<void>;
}

export class RefUpdates {
  readonly #git: Git;
  /** What each update is logged as in the reflog. */
  readonly reason: string;
  readonly #turns = new KeyedMutex();
  #running: Running | null = null;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;

  /** Updates in the repository of `git`, each logged in the reflog with `reason`. */
  constructor(git: Git, reason: string) {
    this.#git = git;
    this.reason = reason;
  }

  /**
   * Points `ref` at `newSha` only if it is at `expectedOld` (null: only if
   * it does not exist). False, changing nothing, when the ref was
   * elsewhere; a GitError for any other failure.
   */
  update(ref: string, newSha: string, expectedOld: string | null): Promise<boolean> {
    for (const [what, sha] of [
      ["new value", newSha],
      ["old value", expectedOld ?? "0".repeat(newSha.length)],
    ] as const) {
      if (!SHA.test(sha)) throw new GitError(`not an object id: ${what} ${sha}`, { args: [] });
    }
    if (!ref.startsWith("refs/") || /[\s\0]/.test(ref)) {
      throw new GitError(`bad ref name ${JSON.stringify(ref)}`, { args: [] });
    }
    if (this.#closed) return this.#git.updateRef(ref, newSha, expectedOld, this.reason);
    return this.#turns.run("", () => this.#transaction(ref, newSha, expectedOld));
  }

  async #transaction(ref: string, newSha: string, expectedOld: string | null): Promise<boolean> {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    const p = this.#process();
    // Waited on now; when idle it must not keep an exiting program alive.
    setKeepAlive(p.child, true);
    const old = expectedOld ?? "0".repeat(newSha.length);
    p.child.stdin.write(`start\nupdate ${ref} ${newSha} ${old}\ncommit\n`);
    const started = await nextLine(p);
    const committed = started === "start: ok" ? await nextLine(p) : null;
    if (committed === "commit: ok") {
      setKeepAlive(p.child, false);
      this.#idleLater(p);
      return true;
    }
    // git ends when a transaction fails: find out why.
    p.child.stdin.end();
    await p.exit;
    if (this.#running === p) this.#running = null;
    const now = await this.#git.revParse(ref);
    if (now !== expectedOld) return false;
    const first = p.stderr.trim().split("\n")[0] ?? "";
    throw new GitError(`git update-ref --stdin failed${first === "" ? "" : `: ${first}`}`, {
      args: ["update-ref", "--stdin"],
      stderr: p.stderr,
    });
  }

  #process(): Running {
    const current = this.#running;
    if (current !== null && !current.exited) return current;
    const child = spawn("git", ["update-ref", "-m", this.reason, "--stdin"], {
      cwd: this.#git.dir,
      env: this.#git.environment(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let done: () => void = () => {};
    const p: Running = {
      child,
      lines: [],
      waiter: null,
      partial: "",
      stderr: "",
      exited: false,
      exit: new Promise<void>((r) => {
        done = r;
      }),
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      const lines = (p.partial + text).split("\n");
      p.partial = lines.pop() ?? "";
      for (const line of lines) deliver(p, line);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      if (p.stderr.length < STDERR_LIMIT) p.stderr += text;
    });
    child.stdin.on("error", () => {});
    const gone = () => {
      if (p.exited) return;
      p.exited = true;
      deliver(p, null);
      done();
    };
    child.once("error", (e) => {
      p.stderr ||= String(e);
      gone();
    });
    child.once("close", gone);
    this.#running = p;
    return p;
  }

  #idleLater(p: Running): void {
    this.#idle = setTimeout(() => {
      this.#idle = null;
      if (this.#running === p) this.#running = null;
      p.child.stdin.end();
    }, IDLE_MS);
    this.#idle.unref();
  }

  /** Ends the process once the updates under way are done; later updates run one git each. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#turns.idle();
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    const p = this.#running;
    this.#running = null;
    if (p !== null) {
      setKeepAlive(p.child, true); // its end is awaited
      p.child.stdin.end();
      await p.exit;
    }
  }
}

function deliver(p: Running, line: string | null): void {
  const w = p.waiter;
  if (w !== null) {
    p.waiter = null;
    w(line);
  } else if (line !== null) {
    p.lines.push(line);
  }
}

function nextLine(p: Running): Promise<string | null> {
  const line = p.lines.shift();
  if (line !== undefined) return Promise.resolve(line);
  if (p.exited) return Promise.resolve(null);
  return new Promise((resolve) => {
    p.waiter = resolve;
  });
}
