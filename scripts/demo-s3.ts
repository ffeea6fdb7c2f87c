/**
 * The demo's S3 server: s3rver on loopback, keeping its buckets under
 * DIRECTORY, for the demo cluster's S3 node (scripts/demo.sh).
 *
 *   node dist/scripts/demo-s3.js DIRECTORY PORT READY_FILE
 *
 * It writes READY_FILE once it accepts connections, so the demo waits for
 * an event rather than a guess, and it stops on SIGINT/SIGTERM or as soon
 * as the process that started it is gone: the S3 server never outlives
 * the demo. Credentials are s3rver's own, S3RVER/S3RVER. The two S3
 * operations s3rver lacks are answered too (s3rver-compat.ts), so a cut
 * upload is aborted, never taken for a delete of its object.
 */
import { writeFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { answerMissingOperation } from "./s3rver-compat.js";

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

const PARENT_CHECK_MS = 500;

async function main(): Promise<void> {
  const [directory, portText, readyFile] = process.argv.slice(2);
  const port = Number(portText);
  if (!directory || !readyFile || !Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error("usage: demo-s3 DIRECTORY PORT READY_FILE");
    process.exit(2);
  }
  // s3rver is CommonJS without types.
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const s3 = new S3rver({
    address: "127.0.0.1",
    port,
    directory,
    silent: true,
    // The demo's S3 remote uses path-style requests.
    vhostBuckets: false,
  });
  await s3.run();
  answerWhatS3rverLacks(s3, directory);
  const parent = process.ppid;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    s3.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      stop();
    }
  }, PARENT_CHECK_MS);
  writeFileSync(readyFile, `${port}\n`);
}

/** Put the answers to the operations s3rver lacks in front of its own handler. */
function answerWhatS3rverLacks(s3: S3rverInstance, directory: string): void {
  const server = s3.httpServer;
  if (server === undefined) throw new Error("s3rver started without an HTTP server");
  const s3rverHandler = server.listeners("request")[0] as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => void;
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    answerMissingOperation(directory, req, res).then(
      (handled) => {
        if (!handled) s3rverHandler(req, res);
      },
      (e: unknown) => {
        res.statusCode = 500;
        res.end(e instanceof Error ? e.message : "error");
      },
    );
  });
}

main().catch((e: unknown) => {
  console.error(`demo-s3: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
