/**
 * `annexgate shell`: a drop-in for `git-annex-shell`, the restricted login
 * shell git-annex clients reach over ssh (CmdLine/GitAnnexShell.hs). The
 * package's `git-annex-shell` executable runs this with the same arguments.
 *
 *   git-annex-shell [-c] COMMAND DIR [PARAMS…] [--uuid UUID] [-- FIELD=VALUE… --]
 *
 * COMMAND is `p2pstdio` (serve the repository at DIR in the P2P protocol on
 * stdio), `configlist` (print its annex.uuid), or anything else, which is
 * handed to git-shell (git-upload-pack, git-receive-pack,
 * git-upload-archive). sshd runs a login shell as `SHELL -c "COMMAND LINE"`,
 * and an authorized_keys `command="git-annex-shell -c \"$SSH_ORIGINAL_COMMAND\""`
 * does the same; a single argument that starts with "git-annex-shell " is
 * split the way git-annex splits it (shellUnEscape).
 *
 * Environment, as git-annex-shell has it: GIT_ANNEX_SHELL_READONLY (no
 * stores or removals), GIT_ANNEX_SHELL_APPENDONLY (no removals),
 * GIT_ANNEX_SHELL_LIMITED (nothing handed to git-shell, and no CONNECT to
 * git in a p2pstdio session),
 * GIT_ANNEX_SHELL_DIRECTORY (only that repository). A variable counts when
 * it is set and not empty.
 */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import type { Readable, Writable } from "node:stream";
import { Git, GitError } from "../git/index.js";
import type { ServeMode } from "../server/index.js";
import { checkDirectory, repositoryPath } from "./shell-directory.js";
import { ShellError } from "./shell-error.js";

export const READONLY_ENV = "GIT_ANNEX_SHELL_READONLY";
export const APPENDONLY_ENV = "GIT_ANNEX_SHELL_APPENDONLY";
export const LIMITED_ENV = "GIT_ANNEX_SHELL_LIMITED";

import { partitionParams, shellEscape, shellUnEscape } from "./shell-params.js";

export { checkDirectory, DIRECTORY_ENV, repositoryPath } from "./shell-directory.js";
export { ShellError } from "./shell-error.js";
export { partitionParams, shellUnEscape } from "./shell-params.js";

/**
 * git-annex-shell's own commands, by the least mode each needs. Only
 * configlist and p2pstdio are implemented; the others (legacy and gcrypt
 * commands) are refused with a clear message rather than handed to git-shell.
 */
const READONLY_COMMANDS = ["configlist", "notifychanges", "p2pstdio", "inannex", "sendkey"];
const APPENDONLY_COMMANDS = [...READONLY_COMMANDS, "recvkey"];
const BUILTINS = [...APPENDONLY_COMMANDS, "dropkey", "gcryptsetup"];

const USAGE = `Usage: git-annex-shell [-c] command [parameters ...] [option ...]

Plumbing commands:

configlist    outputs relevant git configuration
p2pstdio      communicate in P2P protocol over stdio

Other commands (git-upload-pack, git-receive-pack, git-upload-archive)
are passed to git-shell.
`;

function envSet(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = env[name];
  return v !== undefined && v !== "";
}

function checkEnv(env: NodeJS.ProcessEnv, name: string): void {
  if (envSet(env, name)) throw new ShellError(`Action blocked by ${name}`);
}

/** The mode p2pstdio serves in, from the environment (Command/P2PStdIO.hs). */
export function serveModeFromEnv(env: NodeJS.ProcessEnv): ServeMode {
  if (envSet(env, READONLY_ENV)) return "readonly";
  if (envSet(env, APPENDONLY_ENV)) return "appendonly";
  return "readwrite";
}

interface ShellOptions {
  readonly uuid?: string;
  readonly positionals: string[];
}

/** --uuid UUID / --uuid=UUID, and git-annex's common output options (ignored). */
function parseShellOptions(params: readonly string[]): ShellOptions {
  const positionals: string[] = [];
  let uuid: string | undefined;
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as string;
    if (p === "--uuid") {
      const v = params[i + 1];
      if (v === undefined) throw new ShellError("The option `--uuid' expects an argument.");
      uuid = v;
      i++;
    } else if (p.startsWith("--uuid=")) {
      uuid = p.slice("--uuid=".length);
    } else if (
      ["--debug", "--no-debug", "--quiet", "-q", "--verbose", "-v", "--fast", "--force"].includes(p)
    ) {
      // Output and debugging options git-annex may pass; nothing to do here.
    } else if (p.startsWith("-") && p !== "-") {
      throw new ShellError(`Invalid option \`${p}'\n\n${USAGE}`);
    } else {
      positionals.push(p);
    }
  }
  return { ...(uuid !== undefined ? { uuid } : {}), positionals };
}

interface Io {
  /** Only p2pstdio reads stdin; git-shell inherits it untouched. */
  stdin(): Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw e;
  }
}

/** git ran and exited with one of `codes` (a "no", not a failure to run git). */
function gitExited(e: unknown, ...codes: number[]): boolean {
  return (
    e instanceof GitError &&
    e.exitCode !== null &&
    (codes.length === 0 || codes.includes(e.exitCode))
  );
}

async function openGit(dir: string, shown: string): Promise<Git | null> {
  if (!(await isDirectory(dir))) {
    throw new ShellError(
      `failed to read git config of git repository in ${hostname()} on ${shown}; perhaps this repository is not set up correctly or has moved`,
    );
  }
  try {
    return await Git.open(dir);
  } catch (e) {
    // Not a git repository: the caller says so in git-annex-shell's words.
    if (gitExited(e)) return null;
    throw e;
  }
}

/** The --uuid check when it names the repository itself (a UUID it proxies for goes to `proxiedPeer`). */
function checkUuid(expected: string | undefined, found: string | null): void {
  if (expected === undefined) return;
  if (found === null || found === "") {
    throw new ShellError(`expected repository UUID ${expected} but found uninitialized repository`);
  }
  if (found !== expected) {
    throw new ShellError(`expected repository UUID ${expected} but found UUID ${found}`);
  }
}

/** True when some git-annex branch (local or a remote's) exists: Annex.Branch.hasSibling. */
async function hasAnnexBranch(git: Git): Promise<boolean> {
  try {
    return (await git.run(["show-ref", "git-annex"])).length > 0;
  } catch (e) {
    if (gitExited(e, 1)) return false; // show-ref found no such ref
    throw e;
  }
}

async function configlist(
  io: Io,
  dir: string,
  shown: string,
  opts: ShellOptions,
  fields: Map<string, string>,
): Promise<number> {
  const git = await openGit(dir, shown);
  // Both at once: every login of a client runs this, and each is a git.
  const [foundUuid, gcrypt] = git
    ? await Promise.all([git.configGet("annex.uuid"), git.configGet("core.gcrypt-id")])
    : [null, null];
  let uuid = foundUuid;
  checkUuid(opts.uuid, uuid);
  if (git && (uuid === null || uuid === "")) {
    // A repository a git-annex branch was pushed to (or autoinit=1 asked
    // for) is initialised on the spot, as git-annex-shell does.
    if (fields.get("autoinit") === "1" || (await hasAnnexBranch(git))) {
      checkEnv(io.env, READONLY_ENV);
      const { initRepository } = await import("../branch/index.js");
      uuid = (await initRepository(git)).uuid;
    }
  }
  io.stdout.write(`annex.uuid=${uuid ?? ""}\ncore.gcrypt-id=${gcrypt ?? ""}\n`);
  return 0;
}

async function p2pstdio(io: Io, dir: string, shown: string, opts: ShellOptions): Promise<number> {
  const git = await openGit(dir, shown);
  const found = git ? await git.configGet("annex.uuid") : null;
  // Another UUID than the repository's may be one it proxies for.
  const proxied = opts.uuid !== undefined && found !== null && found !== "" && opts.uuid !== found;
  if (!proxied) checkUuid(opts.uuid, found);
  if (!git || found === null || found === "") {
    throw new ShellError("Not a git-annex or gcrypt repository.");
  }
  if (opts.positionals.length !== 1) throw new ShellError("missing UUID parameter");
  const clientUuid = opts.positionals[0] as string;
  // The serving layers are loaded only here: configlist, the other
  // command every login may run, starts without them.
  const { serveP2pStdio } = await import("./shell-p2pstdio.js");
  return serveP2pStdio({
    git,
    uuid: found,
    clientUuid,
    proxiedUuid: proxied ? (opts.uuid as string) : null,
    mode: serveModeFromEnv(io.env),
    limited: envSet(io.env, LIMITED_ENV),
    stdin: io.stdin(),
    stdout: io.stdout,
    stderr: io.stderr,
  });
}

async function builtin(io: Io, cmd: string, dir: string, rest: readonly string[]): Promise<number> {
  if (!READONLY_COMMANDS.includes(cmd)) checkEnv(io.env, READONLY_ENV);
  if (!APPENDONLY_COMMANDS.includes(cmd)) checkEnv(io.env, APPENDONLY_ENV);
  checkDirectory(io.env, dir);
  const { params, fields } = partitionParams(rest);
  const opts = parseShellOptions(params);
  const path = await repositoryPath(io.env, dir);
  switch (cmd) {
    case "configlist":
      return configlist(io, path, dir, opts, fields);
    case "p2pstdio":
      return p2pstdio(io, path, dir, opts);
    default:
      throw new ShellError(`git-annex-shell ${cmd} is not supported by annexgate`);
  }
}

/** Anything else goes to git-shell, as git-annex-shell hands it on. */
async function external(io: Io, args: readonly string[]): Promise<number> {
  const last = args[args.length - 1];
  const words = last === undefined ? [] : shellUnEscape(last);
  checkDirectory(io.env, words[words.length - 1]);
  checkEnv(io.env, LIMITED_ENV);
  const { params } = partitionParams(args);
  // git-shell takes one command line; separate words are quoted into one.
  const line =
    params.length <= 1
      ? (params[0] ?? "")
      : [params[0] as string, ...params.slice(1).map(shellEscape)].join(" ");
  const code = await new Promise<number>((resolveCode, reject) => {
    const child = spawn("git-shell", ["-c", line], { stdio: "inherit", env: io.env });
    child.once("error", reject);
    child.once("close", (c, signal) => resolveCode(c ?? (signal ? 128 : 1)));
  });
  if (code !== 0) throw new ShellError("git-shell failed");
  return 0;
}

async function runShell(io: Io, argv: readonly string[]): Promise<number> {
  let args = [...argv];
  // Leading -c options, as passed by sshd to a login shell.
  while (args[0] === "-c") args = args.slice(1);
  const [cmd, dir, ...rest] = args;
  if (cmd === undefined) throw new ShellError(`bad parameters\n\n${USAGE}`);
  if (dir !== undefined) {
    return BUILTINS.includes(cmd) ? builtin(io, cmd, dir, rest) : external(io, args);
  }
  // A login shell gets the whole command line as one string.
  if (cmd.startsWith("git-annex-shell ")) return runShell(io, shellUnEscape(cmd).slice(1));
  if (BUILTINS.includes(cmd)) throw new ShellError(`bad parameters\n\n${USAGE}`);
  return external(io, args);
}

/**
 * Run git-annex-shell's command line; refusals go to stderr as
 * "git-annex: MESSAGE" with exit status 1, as stock git-annex-shell prints them.
 */
export async function shellCommand(argv: readonly string[]): Promise<number> {
  let stdin: Readable | null = null;
  const io: Io = {
    stdin: () => {
      stdin ??= process.stdin;
      return stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  };
  try {
    return await runShell(io, argv);
  } catch (e) {
    if (!(e instanceof ShellError)) throw e;
    io.stderr.write(`git-annex: ${e.message}\n`);
    return 1;
  } finally {
    // Nothing more is read; let the process exit.
    (stdin as Readable | null)?.destroy();
  }
}
