/**
 * A real S3 server on loopback for tests: s3rver 3.7.1, in this process,
 * on 127.0.0.1 and a free port, storing under a fresh temp directory.
 * Stock git-annex's S3 special remote and annexgate's S3 storage are both
 * pointed at it (path-style requests, signature v4, credentials
 * S3RVER/S3RVER), so two independent S3 clients check each other.
 *
 * s3rver 3.7.1 lacks operations of the S3 API that the storage's tests
 * need: AbortMultipartUpload (`DELETE /bucket/key?uploadId=`),
 * ListMultipartUploads (`GET /bucket?uploads`) and ListParts
 * (`GET /bucket/key?uploadId=`). This helper answers those itself
 * (scripts/s3rver-compat.ts), over s3rver's own upload directory
 * (`<bucket>/._S3rver_uploads/<uploadId>/`, where its
 * InitiateMultipartUpload writes and its CompleteMultipartUpload
 * removes), and leaves every other request to s3rver. Those answers do
 * not check the request's signature.
 */

import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { S3Client } from "@aws-sdk/client-s3";
import { pendingUploadIds, serveS3rver } from "../../scripts/s3rver-compat.js";
import type { Remote } from "../../src/remotes/index.js";
import { makeTempDir, removeDir, run } from "./index.js";

/** The credentials s3rver accepts (it checks signatures made with them). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/** Environment for a process that should reach the server with its credentials. */
export const S3RVER_ENV: Readonly<Record<string, string>> = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
};

/**
 * A plain SDK client on `server` (path-style, the S3RVER credentials), for
 * tests to look at a bucket independently of the code under test.
 */
export function s3AdminClient(server: RunningS3Server): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Client({
    endpoint: server.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export interface RunningS3Server {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Where s3rver keeps buckets and objects. */
  readonly directory: string;
  /** Upload ids of multipart uploads begun and neither completed nor aborted, in `bucket`. */
  pendingUploads(bucket: string): Promise<string[]>;
  /**
   * Hold every UploadPart request (unanswered, its body unread) until
   * `release`: a slow S3 server, to see a writer wait for it.
   */
  holdPartUploads(): PartUploadHold;
  /** Hold every request `match` picks, as holdPartUploads holds parts. */
  holdRequests(match: (req: IncomingMessage) => boolean): PartUploadHold;
  /** Stop serving (open connections are cut); the directory stays until `close`. */
  stop(): Promise<void>;
  /** Serve again, after `stop`, on the same port over the same directory. */
  restart(): Promise<void>;
  /** Stop, and remove the directory. */
  close(): Promise<void>;
}

/** Where an S3 server listens: all a remote's configuration needs of it (it may run elsewhere). */
export type S3Endpoint = Pick<RunningS3Server, "host" | "port">;

export interface PartUploadHold {
  /** UploadPart requests held so far. */
  held(): number;
  /** Let the held requests and every later one through. */
  release(): void;
}

/** The fields of an S3 special remote in `bucket` on `server`, as remote.log holds them. */
export function s3RemoteFields(server: S3Endpoint, bucket: string): Record<string, string> {
  return {
    type: "S3",
    host: server.host,
    port: String(server.port),
    protocol: "http",
    requeststyle: "path",
    signature: "v4",
    datacenter: "us-east-1",
    encryption: "none",
    bucket,
  };
}

/** The `initremote` fields that point stock git-annex's S3 remote at `server`. */
export function stockS3Fields(server: S3Endpoint, bucket: string): string[] {
  return Object.entries(s3RemoteFields(server, bucket)).map(([k, v]) => `${k}=${v}`);
}

/**
 * Stock `git annex initremote NAME` of an S3 remote on `server` in the
 * git-annex repository `repo` (which then may reach loopback addresses):
 * stock creates the bucket and its annex-uuid object. Answers the remote's UUID.
 */
export async function initStockS3Remote(
  repo: string,
  server: S3Endpoint,
  name: string,
  bucket: string,
  extraFields: readonly string[] = [],
): Promise<string> {
  await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: repo });
  await run(
    "git",
    ["annex", "initremote", name, ...stockS3Fields(server, bucket), ...extraFields],
    {
      cwd: repo,
      env: S3RVER_ENV,
    },
  );
  return (await run("git", ["config", `remote.${name}.annex-uuid`], { cwd: repo })).trim();
}

export async function startS3Server(): Promise<RunningS3Server> {
  const directory = await makeTempDir("annexgate-s3-");
  let hold: { count: number; released: Promise<void> } | null = null;
  let holding: (req: IncomingMessage) => boolean = () => false;
  let releaseHold = () => {};
  const heldFor = (req: IncomingMessage) => (hold !== null && holding(req) ? hold : null);
  const holdRequests = (match: (req: IncomingMessage) => boolean): PartUploadHold => {
    const h = { count: 0, released: new Promise<void>((r) => (releaseHold = r)) };
    hold = h;
    holding = match;
    return {
      held: () => h.count,
      release: () => {
        hold = null;
        releaseHold();
      },
    };
  };
  let current = await serveS3rver(directory, 0, heldFor);
  const port = current.port;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await current.stop();
  };
  return {
    host: "127.0.0.1",
    port,
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    pendingUploads: (bucket) => pendingUploadIds(directory, bucket),
    holdPartUploads: () =>
      holdRequests((req) => req.method === "PUT" && /[?&]partNumber=/.test(req.url ?? "")),
    holdRequests,
    stop,
    restart: async () => {
      if (!stopped) throw new Error("restart of an S3 server that was not stopped");
      // Requests held by the stopped server stay unanswered; none is held now.
      hold = null;
      current = await serveS3rver(directory, port, heldFor);
      stopped = false;
    },
    close: async () => {
      await stop();
      await removeDir(directory);
    },
  };
}

/** The remote.log fields of `uuid`, without the timestamp, as the configuration layer reads them. */
export async function remoteLogFields(repo: string, uuid: string): Promise<Record<string, string>> {
  const log = await run("git", ["cat-file", "-p", "git-annex:remote.log"], { cwd: repo });
  const line = log.split("\n").find((l) => l.startsWith(`${uuid} `));
  assert.ok(line, `no remote.log line for ${uuid}`);
  const fields: Record<string, string> = {};
  for (const word of line.split(" ").slice(1)) {
    const i = word.indexOf("=");
    if (i > 0 && !word.startsWith("timestamp=")) fields[word.slice(0, i)] = word.slice(i + 1);
  }
  return fields;
}

/** An S3 special remote named "s3" with these remote.log fields, as the configuration layer makes it. */
export function s3Remote(uuid: string, fields: Record<string, string>): Remote {
  return {
    name: "s3",
    uuid,
    cost: 200,
    transport: { kind: "S3", special: { fields, gitConfig: {} } },
    proxy: false,
    clusterNode: [],
    clusterGateway: [],
    proxiedBy: null,
    ignore: false,
  };
}
