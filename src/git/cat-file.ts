import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { GitError } from "./errors.js";
import type { Git } from "./git.js";

interface Request {
  readonly name: string;
  readonly resolve: (v: Buffer | null) => void;
  readonly reject: (e: unknown) => void;
  /** How many git processes this request has been sent to. */
  tries: number;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** A request is retried on a fresh process once; a second death fails it. */
const MAX_TRIES = 2;

const HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) (\S+) (\d+)$/;

/**
 * A long-lived `git cat-file --batch` that answers many concurrent `get`s
 * over one child process. Requests are written as they arrive and git
 * answers them in order, so callers never wait for each other's round trip.
 * The process starts on the first `get`, is restarted if it dies (requests
 * it had not answered are sent again), and ends with `close()`.
 *
 * @example
 * const cat = new CatFileBatch(git);
 * const log = await cat.get("refs/heads/git-annex:uuid.log"); // Buffer or null
 * await cat.close();
 */
export class CatFileBatch {
  readonly #git: Git;
  #child: Child | null = null;
  /** Sent to the current child, not yet answered, oldest first. */
  #inflight: Request[] = [];
  #buf: Buffer = Buffer.alloc(0);
  /** Body length (plus the trailing newline) of the answer being read, or -1. */
  #bodyLen = -1;
  #closing: Promise<void> | null = null;
  /** The stdin corked until the end of this turn, if any. */
  #corked: Writable | null = null;

  constructor(git: Git) {
    this.#git = git;
  }

  /**
   * The content of an object named as git understands it ("<sha>",
   * "<ref>:<path>", …), or null when there is no such object.
   */
  get(name: string): Promise<Buffer | null> {
    if (this.#closing !== null) {
      return Promise.reject(new GitError("cat-file reader is closed", { args: ["cat-file"] }));
    }
    if (name === "" || /[\n\r\0]/.test(name)) {
      return Promise.reject(
        new GitError(`cannot look up ${JSON.stringify(name)} with cat-file --batch`, {
          args: ["cat-file", "--batch"],
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#send({ name, resolve, reject, tries: 0 });
    });
  }

  /** The pid of the running git process, if one is running (for diagnostics). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Answers what was asked, then stops the child process. Idempotent. */
  close(): Promise<void> {
    if (this.#closing === null) this.#closing = this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else {
        child.once("close", () => resolve());
        child.once("error", () => resolve());
      }
    });
    setRef(child, true);
    child.stdin.end();
    await exited;
  }

  #send(req: Request): void {
    const child = this.#child ?? this.#start();
    req.tries += 1;
    this.#inflight.push(req);
    if (this.#inflight.length === 1) setRef(child, true);
    // Requests made in one turn of the event loop go out in one write.
    const stdin = child.stdin;
    if (this.#corked !== stdin) {
      this.#corked = stdin;
      stdin.cork();
      process.nextTick(() => {
        if (this.#corked === stdin) this.#corked = null;
        stdin.uncork();
      });
    }
    stdin.write(`${req.name}\n`);
  }

  #start(): Child {
    const child: Child = spawn("git", ["cat-file", "--batch"], {
      cwd: this.#git.dir,
      env: this.#git.environment(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child = child;
    this.#buf = Buffer.alloc(0);
    this.#bodyLen = -1;
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr = (stderr + b.toString("utf8")).slice(-4096);
    });
    child.stdout.on("data", (b: Buffer) => this.#onData(child, b));
    // Write errors (EPIPE) show up as the child's exit, handled below.
    child.stdin.on("error", () => {});
    let gone = false;
    const onGone = (cause?: unknown) => {
      if (gone) return;
      gone = true;
      this.#onExit(child, stderr, cause);
    };
    child.once("error", onGone);
    child.once("close", () => onGone());
    return child;
  }

  #onData(child: Child, chunk: Buffer): void {
    if (child !== this.#child) return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      if (this.#bodyLen < 0) {
        const nl = this.#buf.indexOf(0x0a);
        if (nl < 0) return;
        const header = this.#buf.subarray(0, nl).toString("utf8");
        this.#buf = this.#buf.subarray(nl + 1);
        const m = HEADER.exec(header);
        if (m !== null) {
          this.#bodyLen = Number(m[3]) + 1;
          continue;
        }
        const req = this.#inflight.shift();
        if (this.#inflight.length === 0 && this.#closing === null) setRef(child, false);
        if (req === undefined) continue;
        if (header.endsWith(" missing")) req.resolve(null);
        else {
          req.reject(
            new GitError(`git cat-file: ${header}`, {
              args: ["cat-file", "--batch"],
              stderr: header,
            }),
          );
        }
      } else {
        if (this.#buf.length < this.#bodyLen) return;
        const body = Buffer.from(this.#buf.subarray(0, this.#bodyLen - 1));
        this.#buf = this.#buf.subarray(this.#bodyLen);
        this.#bodyLen = -1;
        this.#inflight.shift()?.resolve(body);
      }
      if (this.#inflight.length === 0 && this.#closing === null) setRef(child, false);
    }
  }

  #onExit(child: Child, stderr: string, cause: unknown): void {
    if (child !== this.#child) return;
    this.#child = null;
    const unanswered = this.#inflight;
    this.#inflight = [];
    for (const req of unanswered) {
      if (this.#closing === null && req.tries < MAX_TRIES) {
        this.#send(req);
      } else {
        req.reject(
          new GitError(
            "git cat-file --batch exited before answering",
            { args: ["cat-file", "--batch"], exitCode: child.exitCode, stderr },
            cause,
          ),
        );
      }
    }
  }
}

/**
 * An idle reader does not keep the process alive (as an idle socket
 * would not); one with requests in flight does.
 */
function setRef(child: Child, ref: boolean): void {
  for (const h of [child, child.stdin, child.stdout, child.stderr] as const) {
    const handle = h as unknown as { ref?: () => void; unref?: () => void };
    if (ref) handle.ref?.();
    else handle.unref?.();
  }
}
