/**
 * One `git fast-import` process, driven as a conversation: commands go in
 * on stdin with backpressure, and the answers to `get-mark` and `ls` come
 * back as lines on stdout. fast-import writes everything it is given into
 * one pack (or, for a handful of objects, loose objects), which is why the
 * git-annex branch is written through it: a large journal means tens of
 * thousands of new trees, and one pack is far cheaper than as many loose
 * object files.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { writeOrDrop } from "../util/index.js";
import { GitError } from "./errors.js";

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** Bytes of stderr kept for the error message. */
const STDERR_LIMIT = 64 * 1024;

/**
 * glibc's malloc gives freed memory back to the system as soon as 128 KiB
 * sit free at the top of the heap, and fast-import frees and reallocates
 * such a block for every object it stores: 20,000 journal files cost
 * ~100,000 `brk` calls and most of a minute (2 s with this tunable).
 * Keeping up to 32 MiB before trimming is harmless elsewhere; other C
 * libraries ignore the variable.
 */
const TRIM_TUNABLE = "glibc.malloc.trim_threshold=33554432";

function withMallocTuning(env: Record<string, string>): Record<string, string> {
  const current = env.GLIBC_TUNABLES ?? "";
  if (current.includes("glibc.malloc.trim_threshold")) return env;
  return { ...env, GLIBC_TUNABLES: current === "" ? TRIM_TUNABLE : `${current}:${TRIM_TUNABLE}` };
}

export class FastImport {
  readonly #child: Child;
  readonly #args: readonly string[];
  readonly #lines: string[] = [];
  readonly #waiting: { resolve: (l: string) => void; reject: (e: unknown) => void }[] = [];
  readonly #exited: Promise<{ code: number | null; signal: string | null }>;
  #pending = "";
  #stderr = "";
  #gone = false;

  /** Starts `git fast-import --quiet --done` plus `extraArgs` in the repository of `env`. */
  constructor(cwd: string, env: Record<string, string>, extraArgs: readonly string[] = []) {
    this.#args = ["fast-import", "--quiet", "--done", ...extraArgs];
    this.#child = spawn("git", this.#args, {
      cwd,
      env: withMallocTuning(env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const child = this.#child;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => this.#onAnswer(text));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      if (this.#stderr.length < STDERR_LIMIT) this.#stderr += text;
    });
    // git may exit before reading all of its input (it failed); the exit
    // status reports that, so a broken pipe here is not news.
    child.stdin.on("error", () => {});
    this.#exited = new Promise((resolve) => {
      child.once("error", (e) => {
        this.#stderr ||= String(e);
        resolve({ code: null, signal: null });
      });
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
    void this.#exited.then((r) => this.#onExit(r.code, r.signal));
  }

  #onAnswer(text: string): void {
    const lines = (this.#pending + text).split("\n");
    this.#pending = lines.pop() ?? "";
    for (const line of lines) {
      const w = this.#waiting.shift();
      if (w === undefined) this.#lines.push(line);
      else w.resolve(line);
    }
  }

  #onExit(code: number | null, signal: string | null): void {
    this.#gone = true;
    const err = this.#failure(code, signal, "exited before answering");
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }

  #failure(code: number | null, signal: string | null, what: string): GitError {
    const first = this.#stderr.trim().split("\n")[0] ?? "";
    return new GitError(`git fast-import ${what}${first === "" ? "" : `: ${first}`}`, {
      args: this.#args,
      exitCode: code,
      signal,
      stderr: this.#stderr,
    });
  }

  /** Whether the process has exited (a kept one may die while it waits). */
  get gone(): boolean {
    return this.#gone;
  }

  /** Writes commands (or data), waiting for the pipe to drain when it is full. */
  async write(chunk: Buffer | string): Promise<void> {
    if (this.#gone) return;
    // A git that died does not drain: finish() reports its exit.
    await writeOrDrop(this.#child.stdin, chunk);
  }

  /** The next answer line (to `get-mark`, `ls`, …), in the order they were asked. */
  readLine(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#gone) return Promise.reject(this.#failure(null, null, "exited before answering"));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Ends the stream (`done`) and waits for git to write its pack and exit. */
  async finish(): Promise<void> {
    if (!this.#gone) this.#child.stdin.end("done\n");
    const { code, signal } = await this.#exited;
    if (code !== 0) throw this.#failure(code, signal, "failed");
  }

  /**
   * Whether the process keeps Node running: a kept process waiting for
   * work must not (an exiting program need not wait for it), one at work
   * must (its answer is awaited).
   */
  keepAlive(on: boolean): void {
    setKeepAlive(this.#child, on);
  }

  /** Stops the process without writing anything more (after an error of ours). */
  async abort(): Promise<void> {
    if (!this.#gone) this.#child.kill();
    await this.#exited;
  }
}

/**
 * A path as fast-import reads it: C-style quoted, so spaces, quotes and
 * non-ASCII bytes all survive. Paths with NUL or newlines are refused.
 */
export function quotePath(path: string): string {
  if (path === "" || /[\0\n]/.test(path) || path.startsWith("/")) {
    throw new GitError(`bad tree path ${JSON.stringify(path)}`, { args: ["fast-import"] });
  }
  return `"${path.replace(/[\\"\t\r]/g, (c) => (c === "\t" ? "\\t" : c === "\r" ? "\\r" : `\\${c}`))}"`;
}

/** Refs or unrefs a child process and its pipes (see FastImport.keepAlive). */
export function setKeepAlive(child: Child, on: boolean): void {
  for (const h of [child, child.stdin, child.stdout, child.stderr] as const) {
    const handle = h as unknown as { ref?: () => void; unref?: () => void };
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}
