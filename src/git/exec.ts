/**
 * Running one git command to its end: the environment it runs in (what
 * would point git at another repository dropped), its output collected.
 */
import { spawn } from "node:child_process";
import { GitError } from "./errors.js";

/**
 * Variables that would make git look at some other repository, index or
 * object store than the one this Git object stands for. They are dropped
 * from the inherited environment (a caller may set GIT_INDEX_FILE through
 * `RunOptions.env` on purpose).
 */
const LOCATING_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_PREFIX",
  "GIT_IMPLICIT_WORK_TREE",
  "GIT_NAMESPACE",
];

export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !LOCATING_VARS.includes(k)) env[k] = v;
  }
  return env;
}

export interface Finished {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** Runs git and collects its output; rejects only when git could not be started. */
export function execGit(
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
  input: Buffer | string | undefined,
): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("git", args, {
      cwd,
      env,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.once("error", (e) =>
      reject(new GitError(`cannot run git ${args[0] ?? ""}`, { args }, e)),
    );
    child.once("close", (exitCode, signal) => {
      resolvePromise({
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
        exitCode,
        signal,
      });
    });
    if (input !== undefined && child.stdin !== null) {
      // git may exit before reading all of its input (it failed); the exit
      // status reports that, so a broken pipe here is not news.
      child.stdin.on("error", () => {});
      child.stdin.end(input);
    }
  });
}

export function failure(args: readonly string[], r: Finished): GitError {
  const first = r.stderr.trim().split("\n")[0] ?? "";
  return new GitError(`git ${args[0] ?? ""} failed${first === "" ? "" : `: ${first}`}`, {
    args,
    exitCode: r.exitCode,
    signal: r.signal,
    stderr: r.stderr,
  });
}

export function firstLine(b: Buffer): string {
  return b.toString("utf8").split("\n")[0] ?? "";
}
