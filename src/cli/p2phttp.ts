/**
 * `annexgate p2phttp`: serve the repository it runs in (or, with
 * `--directory`, every repository under some folders) over the p2phttp API,
 * with the same flags as `git annex p2phttp`.
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { availableParallelism } from "node:os";
import { isBadLimit, type TmpLimitText, tmpLimitsFrom } from "../objects/index.js";
import type { LocalRepository } from "../peers/index.js";
import { DEFAULT_P2PHTTP_PORT } from "../protocol/index.js";
import {
  Authorizer,
  DEFAULT_LIMITS,
  DEFAULT_MAX_IDLE_PER_CLIENT,
  IdleConnections,
  isNotARepository,
  P2pHttpServer,
  RepositoryFolders,
  RepositorySet,
  type RepositorySetOptions,
} from "../server/index.js";
import type { Logger } from "../util/index.js";
import { type GatewaySettings, makeGateway } from "./gateway.js";
import { indirectSettings } from "./indirect-flags.js";
import { loggerFromFlags } from "./logging.js";
import { parseOptions } from "./options.js";
import { sideRoutesWith } from "./p2phttp-example.js";
import { P2PHTTP_OPTIONS } from "./p2phttp-help.js";
import { opsWiring } from "./p2phttp-ops.js";
import { UsageError } from "./usage.js";

/** Seconds a connection may move no data before it is closed (--idle-timeout). */
export const DEFAULT_IDLE_TIMEOUT_S = 120;

/** What tests may set that no operator needs a flag for. */
export interface P2pHttpTestOverrides {
  /** How long a lockcontent lock lasts without keeplocked (ms). */
  readonly lockRetentionMs?: number;
  /** How long a node may make no progress on a request it owes (ms; default --idle-timeout). */
  readonly stallTimeoutMs?: number;
  /** Where to log instead of stderr (tests running the server in their own process). */
  readonly logger?: Logger;
}

function positiveInt(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1)
    throw new UsageError(`--${name} needs a positive number`);
  return Number(text);
}

/**
 * The partial-upload limits given as flags, checked now so that a typo is
 * a usage error before anything is served; each repository's git config
 * fills in what is not given.
 */
function tmpLimitFlags(maxAge: string | undefined, maxSize: string | undefined): TmpLimitText {
  try {
    tmpLimitsFrom({ maxAge, maxSize });
  } catch (e) {
    if (!isBadLimit(e)) throw e;
    const flag = e.code === "AG_BAD_DURATION" ? "--tmp-max-age" : "--tmp-max-size";
    throw new UsageError(`${flag}: ${e.message}`);
  }
  return { maxAge, maxSize };
}

export interface RunningServer {
  readonly server: Server;
  readonly p2p: P2pHttpServer;
  readonly repos: RepositorySet;
  /** The cap on each client's idle connections (--max-idle-per-client). */
  readonly idle: IdleConnections;
  /** Address served, e.g. "127.0.0.1:9417" or a socket path. */
  readonly address: string;
  /** Where --metrics-port serves, or null. */
  readonly metricsAddress: string | null;
  stop(): Promise<void>;
}

/** Who may do what, from the --wideopen / --unauth-* / --authenv* flags. */
function authorizer(o: {
  wideopen?: boolean | undefined;
  "unauth-readonly"?: boolean | undefined;
  "unauth-appendonly"?: boolean | undefined;
  "unauth-nolocking"?: boolean | undefined;
  authenv?: boolean | undefined;
  "authenv-http"?: boolean | undefined;
}): Authorizer {
  return new Authorizer({
    wideOpen: o.wideopen ?? false,
    unauthReadOnly: o["unauth-readonly"] ?? false,
    unauthAppendOnly: o["unauth-appendonly"] ?? false,
    unauthNoLocking: o["unauth-nolocking"] ?? false,
    authEnv: o.authenv ?? false,
    authEnvHttp: o["authenv-http"] ?? false,
  });
}

/** The limits that keep one client from starving the others: the flags, else the defaults. */
function clientLimits(o: {
  "max-queued"?: string | undefined;
  "max-per-client"?: string | undefined;
  "max-locks-per-client"?: string | undefined;
}): { maxQueued: number; maxPerClient: number; maxLocksPerClient: number } {
  return {
    maxQueued: positiveInt(o["max-queued"], "max-queued") ?? DEFAULT_LIMITS.maxQueued,
    maxPerClient: positiveInt(o["max-per-client"], "max-per-client") ?? DEFAULT_LIMITS.maxPerClient,
    maxLocksPerClient:
      positiveInt(o["max-locks-per-client"], "max-locks-per-client") ??
      DEFAULT_LIMITS.maxLocksPerClient,
  };
}

/** The repositories to serve: those under `--directory`, else the one here. */
async function openRepositories(
  directory: string[] | undefined,
  followSymlinks: boolean | undefined,
  cwd: string,
  setOpts: RepositorySetOptions,
): Promise<RepositorySet> {
  if (directory && directory.length > 0) {
    const folders = new RepositoryFolders(directory, {
      ...setOpts,
      followSymlinks: followSymlinks ?? false,
    });
    await folders.rescan();
    return folders;
  }
  if (followSymlinks) throw new UsageError("--follow-symlinks is for --directory");
  const repos = new RepositorySet(setOpts);
  try {
    await repos.add(cwd);
  } catch (e) {
    if (!isNotARepository(e)) throw e;
    throw new UsageError(
      "Not in a git-annex repository. Use the --directory option to specify which git-annex repositories to serve.",
    );
  }
  return repos;
}

/** An HTTP server for `handle`, HTTPS with a certificate. */
function httpServer(
  handle: P2pHttpServer["handle"],
  certfile: string | undefined,
  privatekeyfile: string | undefined,
  chainfile: string[] | undefined,
  idleTimeoutS: number,
): Server {
  const server: Server = certfile
    ? createHttpsServer(
        {
          cert: readFileSync(certfile),
          key: readFileSync(privatekeyfile as string),
          ...(chainfile ? { ca: chainfile.map((f) => readFileSync(f)) } : {}),
        },
        handle,
      )
    : createHttpServer(handle);
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
  return server;
}

/** Listens on the socket, else the port (and address); resolves to what is served. */
function listen(
  server: Server,
  socket: string | undefined,
  portText: string | undefined,
  bind: string | undefined,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once("error", reject);
    if (socket) {
      server.listen(socket, () => resolve(socket));
      return;
    }
    const port = portText === undefined ? DEFAULT_P2PHTTP_PORT : Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      reject(new UsageError(`bad --port ${portText}`));
      return;
    }
    const done = () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? `${a.address}:${a.port}` : String(a));
    };
    if (bind) server.listen(port, bind, done);
    else server.listen(port, done);
  });
}

/** How each served repository is opened, and made a gateway, from the flags. */
function repositorySetOptions(
  o: {
    "commit-delay"?: string | undefined;
    clusterjobs?: string | undefined;
    proxyconnections?: string | undefined;
    "tmp-max-age"?: string | undefined;
    "tmp-max-size"?: string | undefined;
  },
  gatewayOpts: Pick<GatewaySettings, "logger" | "observer" | "stallTimeoutMs" | "indirect">,
): RepositorySetOptions {
  const commitDelayMs = positiveInt(o["commit-delay"], "commit-delay");
  const clusterJobs = positiveInt(o.clusterjobs, "clusterjobs");
  const proxyConnections = positiveInt(o.proxyconnections, "proxyconnections");
  const tmpReclaim = tmpLimitFlags(o["tmp-max-age"], o["tmp-max-size"]);
  return {
    ...(gatewayOpts.logger ? { logger: gatewayOpts.logger } : {}),
    tmpReclaim,
    ...(commitDelayMs !== undefined ? { commitDelayMs } : {}),
    // Every served repository is also a gateway for what it proxies.
    gateway: (repo: LocalRepository) =>
      makeGateway(repo, {
        ...gatewayOpts,
        tmpReclaim,
        ...(clusterJobs !== undefined ? { clusterJobs } : {}),
        ...(proxyConnections !== undefined ? { maxConnections: proxyConnections } : {}),
        ...(commitDelayMs !== undefined ? { commitDelayMs } : {}),
      }),
  };
}

/** Start serving; resolves once listening. Used by the CLI and by tests. */
export async function startP2pHttp(
  argv: readonly string[],
  cwd: string,
  overrides: P2pHttpTestOverrides = {},
): Promise<RunningServer> {
  const { values: o, positionals } = parseOptions(argv, P2PHTTP_OPTIONS, true);
  if (positionals.length > 0)
    throw new UsageError(`p2phttp takes no arguments: ${positionals.join(" ")}`);
  if (Boolean(o.certfile) !== Boolean(o.privatekeyfile)) {
    throw new UsageError(
      "You must use both --certfile and --privatekeyfile options to enable HTTPS.",
    );
  }
  const { stallTimeoutMs, logger: given, ...serverOverrides } = overrides;
  const logger = given ?? loggerFromFlags(o);
  const idleTimeoutS = positiveInt(o["idle-timeout"], "idle-timeout") ?? DEFAULT_IDLE_TIMEOUT_S;
  const idle = new IdleConnections(
    positiveInt(o["max-idle-per-client"], "max-idle-per-client") ?? DEFAULT_MAX_IDLE_PER_CLIENT,
  );
  // The metrics read the server and the repositories, made below.
  const made: { p2p?: P2pHttpServer; repos?: RepositorySet } = {};
  const ops = opsWiring(o, {
    stats: () => (made.p2p as P2pHttpServer).stats(),
    transfers: () => made.p2p?.transfers() ?? [],
    served: () => made.repos?.served() ?? [],
  });
  const indirect = indirectSettings(o);
  const setOpts = repositorySetOptions(o, {
    logger,
    ...(indirect ? { indirect } : {}),
    ...(ops.observer ? { observer: ops.observer } : {}),
    // A node that moves no data is given up on as a client would be.
    stallTimeoutMs: stallTimeoutMs ?? idleTimeoutS * 1000,
  });
  const repos = await openRepositories(o.directory, o["follow-symlinks"], cwd, setOpts);
  const first = repos.repositories()[0];
  const configuredJobs = first ? await first.git.configGet("annex.jobs") : null;
  const jobs =
    positiveInt(o.jobs, "jobs") ??
    positiveInt(configuredJobs ?? undefined, "annex.jobs") ??
    // Transfers mostly wait on disks and sockets, and stock clients commonly
    // run -J8: a CPU-count default would queue most of their requests.
    Math.max(8, availableParallelism());
  const p2p = new P2pHttpServer({
    peers: repos,
    ...clientLimits(o),
    ...serverOverrides,
    auth: authorizer(o),
    jobs,
    secure: Boolean(o.certfile),
    logger,
    ...(ops.observer ? { observer: ops.observer } : {}),
    sideRoutes: sideRoutesWith(o["example-page"], ops.onApiPort, () => made.repos?.served() ?? []),
  });
  Object.assign(made, { p2p, repos });
  const server = httpServer(p2p.handle, o.certfile, o.privatekeyfile, o.chainfile, idleTimeoutS);
  idle.attach(server);
  const address = await listen(server, o.socket, o.port, o.bind);
  const metricsAddress = await ops.listen();
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await ops.close();
      await p2p.close();
      await repos.close();
    })();
    return stopping;
  };
  return { server, p2p, repos, idle, address, metricsAddress, stop };
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
