/**
 * Writing many blobs with one git process. `git hash-object` batches only
 * file names, so writing a large git-annex journal that way needs one
 * temporary file per blob (tens of thousands at once ran out of file
 * descriptors). `git fast-import` takes the contents themselves on its
 * stdin and answers `get-mark` with each blob's id, so the blobs stream
 * through one pipe with backpressure and no temporary files. It keeps
 * small imports as loose objects (fastimport.unpackLimit), large ones as
 * one pack.
 */
import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { GitError } from "./errors.js";

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ARGS = ["fast-import", "--quiet", "--done"] as const;

/** Writes `chunk`, waiting for the pipe to drain when it is full. */
async function write(stdin: Writable, chunk: Buffer | string): Promise<void> {
  if (stdin.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      stdin.off("drain", done);
      stdin.off("close", done);
      resolve();
    };
    stdin.on("drain", done);
    // A git that died does not drain: its exit is reported by the caller.
    stdin.on("close", done);
  });
}

/** Feeds every content to fast-import as a blob, each followed by `get-mark`. */
async function feed(stdin: Writable, contents: readonly (Buffer | string)[]): Promise<void> {
  for (let i = 0; i < contents.length; i++) {
    if (stdin.destroyed) return;
    const body = contents[i] ?? "";
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    await write(stdin, `blob\nmark :${i + 1}\ndata ${bytes.length}\n`);
    await write(stdin, bytes);
    await write(stdin, `\nget-mark :${i + 1}\n`);
  }
  stdin.end("done\n");
}

/**
 * Writes each content as a blob of the repository whose environment is
 * `env` and returns the blob ids in the same order.
 */
export async function writeBlobs(
  cwd: string,
  env: Record<string, string>,
  contents: readonly (Buffer | string)[],
): Promise<string[]> {
  const child = spawn("git", ARGS, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  const ids: string[] = [];
  let pending = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) ids.push(line);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  // git may exit before reading all of its input (it failed); the exit
  // status reports that, so a broken pipe here is not news.
  child.stdin.on("error", () => {});
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    child.once("error", (e) =>
      reject(new GitError("cannot run git fast-import", { args: [...ARGS] }, e)),
    );
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  await Promise.all([feed(child.stdin, contents), exited]).catch((err: unknown) => {
    child.kill();
    throw err;
  });
  const { code, signal } = await exited;
  if (code !== 0) {
    const first = stderr.trim().split("\n")[0] ?? "";
    throw new GitError(`git fast-import failed${first === "" ? "" : `: ${first}`}`, {
      args: [...ARGS],
      exitCode: code,
      signal,
      stderr,
    });
  }
  if (ids.length !== contents.length || !ids.every((id) => SHA.test(id))) {
    throw new GitError("git fast-import returned unexpected blob ids", { args: [...ARGS] });
  }
  return ids;
}
