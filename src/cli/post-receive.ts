/**
 * `annexgate post-receive`: what the gateway's post-receive hook runs
 * after a push (git-annex's `git annex post-receive`): the pushed refs
 * come on stdin, and pushed tracking branches are exported to the export
 * remotes the gateway proxies for (src/export/). Git runs a hook in the
 * git directory with GIT_DIR=. (Command/PostReceive.hs
 * `fixPostReceiveHookEnv`); a non-bare repository is then opened at the
 * work tree above it. Everything printed reaches the pusher as
 * "remote:" lines, so an unexpected failure is told there only by an id,
 * and written whole to `annex/annexgate/post-receive.log`.
 */
import { randomBytes } from "node:crypto";
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { AnnexBranch } from "../branch/index.js";
import { exportPushedTrees, parseHookInput } from "../export/index.js";
import { Git } from "../git/index.js";
import { processFcntlLocks } from "../locks/index.js";
import { builtinPeerKinds } from "../peers/index.js";
import { UsageError } from "./usage.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The repository git runs the hook for: GIT_DIR, else the current directory. */
async function openHookRepository(): Promise<Git> {
  const gitDir = resolve(process.env.GIT_DIR ?? ".");
  try {
    return await Git.open(gitDir);
  } catch {
    // The .git directory of a non-bare repository: its work tree is above.
  }
  try {
    return await Git.open(dirname(gitDir));
  } catch {
    throw new UsageError("Not in a git repository.");
  }
}

export async function postReceiveCommand(argv: readonly string[]): Promise<number> {
  parseArgs({ args: [...argv], allowPositionals: false, options: {} });
  const pushed = parseHookInput(await readStdin());
  const git = await openHookRepository();
  const uuid = (await git.configGet("annex.uuid")) ?? "";
  if (uuid === "" || pushed.length === 0) return 0;
  const logFile = join(git.gitDir, "annex", "annexgate", "post-receive.log");
  const failures: Promise<void>[] = [];
  const logError = (e: unknown) => {
    const id = randomBytes(4).toString("hex");
    process.stdout.write(`annexgate: internal error (id ${id})\n`);
    const text = `${new Date().toISOString()} ${id} ${String((e as Error)?.stack ?? e)}\n`;
    failures.push(
      mkdir(dirname(logFile), { recursive: true }).then(() => appendFile(logFile, text)),
    );
  };
  const branch = await AnnexBranch.open(git);
  try {
    const ok = await exportPushedTrees({
      git,
      branch,
      uuid,
      pushed,
      kinds: builtinPeerKinds,
      report: (line) => process.stdout.write(`${line}\n`),
      logError,
    });
    return ok ? 0 : 1;
  } finally {
    await branch.close();
    await Promise.allSettled(failures);
    processFcntlLocks().close();
  }
}
