/**
 * Starting p2phttp servers for tests: annexgate's (its real CLI, as a child
 * process, so it can be killed like any server) and stock `git annex
 * p2phttp`, both on loopback ports chosen free; and a client clone of a
 * served repository set up the way INTEROP.md describes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "./index.js";

/** dist/src/cli/main.js, the built `annexgate` command. */
export const ANNEXGATE_BIN = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "src",
  "cli",
  "main.js",
);

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

export interface RunningP2pHttp {
  readonly port: number;
  /** e.g. http://127.0.0.1:PORT/git-annex */
  readonly base: string;
  readonly child: ChildProcess;
  /** Everything the server printed on stderr so far. */
  stderr(): string;
  /** SIGTERM, then wait for exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Waits until `port` takes TCP connections, failing if `child` exits first or `limitMs` passes. */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  err: () => string,
  limitMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${err()}`);
    // A TCP connection is enough: the server may speak HTTP or HTTPS.
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not listen on ${port}: ${err()}`);
}

function startServer(
  cmd: string,
  args: string[],
  cwd: string,
  port: number,
  env?: NodeJS.ProcessEnv,
): Promise<RunningP2pHttp> {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  };
  return waitForPort(port, child, () => err).then(
    () => ({ port, base: `http://127.0.0.1:${port}/git-annex`, child, stderr: () => err, stop }),
    async (e: unknown) => {
      await stop();
      throw e;
    },
  );
}

/** `annexgate p2phttp --bind 127.0.0.1 --port P ARGS` in `repo`. */
export async function startAnnexgate(
  repo: string,
  args: string[] = ["--wideopen"],
  env?: NodeJS.ProcessEnv,
): Promise<RunningP2pHttp> {
  return startAnnexgateCommand([process.execPath, ANNEXGATE_BIN], repo, args, env);
}

/** The same, with `command` (e.g. an installed `annexgate`) in place of this checkout's. */
export async function startAnnexgateCommand(
  command: readonly [string, ...string[]],
  repo: string,
  args: string[] = ["--wideopen"],
  env?: NodeJS.ProcessEnv,
): Promise<RunningP2pHttp> {
  const port = await freePort();
  const [cmd, ...pre] = command;
  return startServer(
    cmd,
    [...pre, "p2phttp", "--bind", "127.0.0.1", "--port", String(port), ...args],
    repo,
    port,
    env,
  );
}

/**
 * Stock `git annex p2phttp --bind 127.0.0.1 --port P --jobs 4 ARGS` in `repo`
 * (`--jobs 4` only when ARGS has no `--jobs` of its own: stock refuses it twice).
 */
export async function startStockP2pHttp(
  repo: string,
  args: string[] = ["--wideopen"],
  env?: NodeJS.ProcessEnv,
): Promise<RunningP2pHttp> {
  const port = await freePort();
  const jobs = args.includes("--jobs") ? [] : ["--jobs", "4"];
  return startServer(
    "git",
    ["annex", "p2phttp", "--bind", "127.0.0.1", "--port", String(port), ...jobs, ...args],
    repo,
    port,
    env,
  );
}

/**
 * Make `clientDir` a clone of `serverRepo` whose origin is reached through
 * the p2phttp server at `port`, and `git annex init` it.
 */
export async function annexHttpClone(
  serverRepo: string,
  clientDir: string,
  port: number,
  description = "client",
): Promise<string> {
  await run("git", ["clone", "-q", serverRepo, clientDir]);
  const git = (...a: string[]) => run("git", a, { cwd: clientDir });
  await git("annex", "init", "-q", description);
  await git("config", "remote.origin.annexUrl", `annex+http://127.0.0.1:${port}/git-annex/`);
  await git("config", "annex.security.allowed-ip-addresses", "all");
  return clientDir;
}

/** One request line of `annexgate p2phttp --log-format json`. */
export interface RequestLine {
  readonly reqId: string;
  readonly upstreamId?: string;
  readonly method: string;
  readonly endpoint: string;
  readonly status: number;
  readonly key?: string;
  readonly offset?: number;
  readonly [field: string]: unknown;
}

/** The request lines among a JSON-logging server's stderr (other lines and text lines skipped). */
export function requestLines(stderr: string): RequestLine[] {
  const out: RequestLine[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    const o = JSON.parse(line) as { msg?: unknown };
    if (o.msg === "request") out.push(o as RequestLine);
  }
  return out;
}

/**
 * Flags for a server run inside the test's own process: problems are
 * logged, each request's line is not (it would fill the runner's output).
 */
export const QUIET: readonly string[] = ["--log-level", "warn"];
