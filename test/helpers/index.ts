/**
 * Small helpers for tests that need real git / git-annex repositories in
 * temporary directories.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

/** A fresh empty directory under the system temp dir. */
export function makeTempDir(prefix = "annexgate-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a directory tree (git-annex write-protects objects, so permissions are fixed first). */
export async function removeDir(dir: string): Promise<void> {
  await run("chmod", ["-R", "u+w", dir]).catch(() => undefined);
  // A process a test or bench started may still be finishing a write in
  // it (a git-annex command's children outlive it briefly): rm retries
  // on ENOTEMPTY, with its own short backoff.
  await rm(dir, { recursive: true, force: true, maxRetries: 10 });
}

export interface RunOpts {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
}

/** Runs a program and returns its stdout; rejects with stderr in the message on failure. */
export async function run(
  cmd: string,
  args: readonly string[],
  opts: RunOpts = {},
): Promise<string> {
  const o = await runOutcome(cmd, args, opts);
  if (o.code !== 0) {
    // The outcome is the cause: callers read its exit `code`.
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${o.code}): ${o.stderr}`, {
      cause: o,
    });
  }
  return o.stdout;
}

/** How a program ended: its exit status (1 when it had none) and what it printed. */
export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program to its end, whatever its exit status (a failure is what
 * some cases test); rejects only when it could not be started at all.
 */
export function runOutcome(
  cmd: string,
  args: readonly string[],
  opts: RunOpts = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (typeof err?.code === "string") reject(err);
        else resolve({ code: err === null ? 0 : (err.code ?? 1), stdout, stderr });
      },
    );
    // A program that exits without reading its stdin (chmod, say) makes
    // this write fail with EPIPE; its exit status is what matters.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input ?? "");
  });
}

/** `git init` (bare when asked) plus stock `git annex init DESCRIPTION`; returns `dir`. */
export async function gitAnnexRepo(
  dir: string,
  description: string,
  opts: { readonly bare?: boolean } = {},
): Promise<string> {
  await run("git", ["init", "-q", ...(opts.bare === true ? ["--bare"] : []), dir]);
  await run("git", ["annex", "init", "-q", description], { cwd: dir });
  return dir;
}

const MiB = 1024 * 1024;

/** A file of `size` random bytes, written a MiB at a time. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const chunks = Math.ceil(size / MiB);
  async function* gen() {
    for (let i = 0; i < chunks; i++) yield randomBytes(Math.min(MiB, size - i * MiB));
  }
  await pipeline(gen(), createWriteStream(path));
}

/** The oldest stock git-annex the interop tests run against. */
const MIN_GIT_ANNEX = 10.2024;

/**
 * Throws unless stock git-annex 10.2024 or newer is installed. Interop
 * suites call it in a `before` hook so that a machine without git-annex
 * fails the run loudly instead of skipping them.
 */
export async function requireGitAnnex(): Promise<void> {
  const raw = await run("git", ["annex", "version", "--raw"]).catch(() => null);
  const version = Number.parseFloat((raw ?? "").trim().slice(0, 9));
  if (raw === null || !(version >= MIN_GIT_ANNEX)) {
    throw new Error(
      `git-annex 10.2024+ required for the interop tests (found: ${raw === null ? "none" : raw.trim()}); install it with scripts/setup-git-annex.sh`,
    );
  }
}

/**
 * Polls `check` until it answers something other than `undefined`, `null`
 * or `false`, and resolves with that answer: how a test waits for an
 * event it cannot subscribe to (a file appearing, a commit landing)
 * without betting on a number of milliseconds. Bounded by `timeoutMs`
 * and by a count of polls; on timeout it fails naming `what`.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    const answer = await check();
    if (answer !== undefined && answer !== null && answer !== false) return answer;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
}

/** Bytes in a repository's `.git/annex/tmp` (partial uploads), 0 when there is none. */
export async function tmpBytes(repo: string): Promise<number> {
  const dir = join(repo, ".git", "annex", "tmp");
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    total += await stat(join(dir, name)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
  }
  return total;
}
