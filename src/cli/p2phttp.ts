/**
 * `annexgate p2phttp`: serve the repository it runs in (or, with
 * `--directory`, every repository under some folders) over the p2phttp API,
 * with the same flags as `git annex p2phttp`.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import type { LocalRepository } from "../peers/index.js";
import { DEFAULT_P2PHTTP_PORT } from "../protocol/index.js";
import {
  Authorizer,
  DEFAULT_LIMITS,
  isNotARepository,
  P2pHttpServer,
  RepositoryFolders,
  RepositorySet,
} from "../server/index.js";
import { makeGateway } from "./gateway.js";
import { UsageError } from "./usage.js";

export const P2PHTTP_OPTIONS = {
  port: { type: "string" },
  bind: { type: "string" },
  socket: { type: "string" },
  jobs: { type: "string", short: "J" },
  wideopen: { type: "boolean" },
  "unauth-readonly": { type: "boolean" },
  "unauth-appendonly": { type: "boolean" },
  "unauth-nolocking": { type: "boolean" },
  authenv: { type: "boolean" },
  "authenv-http": { type: "boolean" },
  certfile: { type: "string" },
  privatekeyfile: { type: "string" },
  chainfile: { type: "string", multiple: true },
  directory: { type: "string", multiple: true },
  "follow-symlinks": { type: "boolean" },
  proxyconnections: { type: "string" },
  clusterjobs: { type: "string" },
  "commit-delay": { type: "string" },
  "idle-timeout": { type: "string" },
  "max-queued": { type: "string" },
  "max-per-client": { type: "string" },
  "max-locks-per-client": { type: "string" },
  debug: { type: "boolean" },
} as const;

/** Seconds a connection may move no data before it is closed (--idle-timeout). */
export const DEFAULT_IDLE_TIMEOUT_S = 120;

/** What tests may set that no operator needs a flag for. */
export interface P2pHttpTestOverrides {
  /** How long a lockcontent lock lasts without keeplocked (ms). */
  readonly lockRetentionMs?: number;
}

function positiveInt(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1)
    throw new UsageError(`--${name} needs a positive number`);
  return Number(text);
}

export interface RunningServer {
  readonly server: Server;
  readonly p2p: P2pHttpServer;
  readonly repos: RepositorySet;
  /** Address served, e.g. "127.0.0.1:9417" or a socket path. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Start serving; resolves once listening. Used by the CLI and by tests. */
export async function startP2pHttp(
  argv: readonly string[],
  cwd: string,
  overrides: P2pHttpTestOverrides = {},
): Promise<RunningServer> {
  const { values: o, positionals } = parseArgs({
    args: [...argv],
    options: P2PHTTP_OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`p2phttp takes no arguments: ${positionals.join(" ")}`);
  if (Boolean(o.certfile) !== Boolean(o.privatekeyfile)) {
    throw new UsageError(
      "You must use both --certfile and --privatekeyfile options to enable HTTPS.",
    );
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const commitDelayMs = positiveInt(o["commit-delay"], "commit-delay");
  const clusterJobs = positiveInt(o.clusterjobs, "clusterjobs");
  const proxyConnections = positiveInt(o.proxyconnections, "proxyconnections");
  const setOpts = {
    log,
    ...(commitDelayMs !== undefined ? { commitDelayMs } : {}),
    // Every served repository is also a gateway for what it proxies.
    gateway: (repo: LocalRepository) =>
      makeGateway(repo, {
        log,
        ...(clusterJobs !== undefined ? { clusterJobs } : {}),
        ...(proxyConnections !== undefined ? { maxConnections: proxyConnections } : {}),
        ...(commitDelayMs !== undefined ? { commitDelayMs } : {}),
      }),
  };
  let repos: RepositorySet;
  if (o.directory && o.directory.length > 0) {
    const folders = new RepositoryFolders(o.directory, {
      ...setOpts,
      followSymlinks: o["follow-symlinks"] ?? false,
    });
    await folders.rescan();
    repos = folders;
  } else {
    if (o["follow-symlinks"]) throw new UsageError("--follow-symlinks is for --directory");
    repos = new RepositorySet(setOpts);
    try {
      await repos.add(cwd);
    } catch (e) {
      if (!isNotARepository(e)) throw e;
      throw new UsageError(
        "Not in a git-annex repository. Use the --directory option to specify which git-annex repositories to serve.",
      );
    }
  }
  const first = repos.repositories()[0];
  const configuredJobs = first ? await first.git.configGet("annex.jobs") : null;
  const jobs =
    positiveInt(o.jobs, "jobs") ??
    positiveInt(configuredJobs ?? undefined, "annex.jobs") ??
    // Transfers mostly wait on disks and sockets, and stock clients commonly
    // run -J8: a CPU-count default would queue most of their requests.
    Math.max(8, availableParallelism());
  const idleTimeoutS = positiveInt(o["idle-timeout"], "idle-timeout") ?? DEFAULT_IDLE_TIMEOUT_S;
  const p2p = new P2pHttpServer({
    peers: repos,
    maxQueued: positiveInt(o["max-queued"], "max-queued") ?? DEFAULT_LIMITS.maxQueued,
    maxPerClient: positiveInt(o["max-per-client"], "max-per-client") ?? DEFAULT_LIMITS.maxPerClient,
    maxLocksPerClient:
      positiveInt(o["max-locks-per-client"], "max-locks-per-client") ??
      DEFAULT_LIMITS.maxLocksPerClient,
    ...overrides,
    auth: new Authorizer({
      wideOpen: o.wideopen ?? false,
      unauthReadOnly: o["unauth-readonly"] ?? false,
      unauthAppendOnly: o["unauth-appendonly"] ?? false,
      unauthNoLocking: o["unauth-nolocking"] ?? false,
      authEnv: o.authenv ?? false,
      authEnvHttp: o["authenv-http"] ?? false,
    }),
    jobs,
    secure: Boolean(o.certfile),
    log,
    ...(o.debug ? { requestLog: (line: string) => log(`[p2phttp] ${line}`) } : {}),
  });
  const server: Server = o.certfile
    ? createHttpsServer(
        {
          cert: readFileSync(o.certfile),
          key: readFileSync(o.privatekeyfile as string),
          ...(o.chainfile ? { ca: o.chainfile.map((f) => readFileSync(f)) } : {}),
        },
        p2p.handle,
      )
    : createHttpServer(p2p.handle);
  // Uploads of big files and keeplocked long polls must not be cut off by
  // Node's whole-request timeout; slow or stuck header sends still are.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 1_200_000; // git-annex clients ask for timeout=1200
  // A connection that moves no data either way for this long (a download
  // nobody reads, an upload that stopped sending) is closed, which ends
  // its request and frees what it held. A kept lock is exempt (see
  // keeplocked); idle keep-alive connections follow keepAliveTimeout.
  server.setTimeout(idleTimeoutS * 1000, (socket) => socket.destroy());
  const address = await new Promise<string>((resolve, reject) => {
    server.once("error", reject);
    if (o.socket) {
      server.listen(o.socket, () => resolve(o.socket as string));
    } else {
      const port = o.port === undefined ? DEFAULT_P2PHTTP_PORT : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        reject(new UsageError(`bad --port ${o.port}`));
        return;
      }
      const done = () => {
        const a = server.address();
        resolve(typeof a === "object" && a ? `${a.address}:${a.port}` : String(a));
      };
      if (o.bind) server.listen(port, o.bind, done);
      else server.listen(port, done);
    }
  });
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await p2p.close();
      await repos.close();
    })();
    return stopping;
  };
  return { server, p2p, repos, address, stop };
}

export async function p2phttpCommand(argv: readonly string[]): Promise<number> {
  const running = await startP2pHttp(argv, process.cwd());
  const uuids = running.repos.repositories().map((r) => r.uuid);
  process.stderr.write(`annexgate p2phttp: serving ${uuids.join(", ")} on ${running.address}\n`);
  await new Promise<void>((resolve) => {
    const onSignal = () => resolve();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
  await running.stop();
  return 0;
}
