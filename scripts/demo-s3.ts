/**
 * The demo's S3 server: s3rver on loopback, keeping its buckets under
 * DIRECTORY, for the demo cluster's S3 node (scripts/demo.sh).
 *
 *   node dist/scripts/demo-s3.js DIRECTORY PORT READY_FILE [CORS_BUCKET]
 *
 * It writes READY_FILE once it accepts connections, so the demo waits for
 * an event rather than a guess, and it stops on SIGINT/SIGTERM or as soon
 * as the process that started it is gone: the S3 server never outlives
 * the demo. Credentials are s3rver's own, S3RVER/S3RVER. The two S3
 * operations s3rver lacks are answered too (s3rver-compat.ts), so a cut
 * upload is aborted, never taken for a delete of its object. CORS_BUCKET
 * is made (when it is not there yet) with a CORS configuration that lets
 * web pages of any origin PUT to it: the example page's indirect uploads
 * (a loopback demo; a real bucket names the gateway's origin).
 */
import { writeFileSync } from "node:fs";
import { serveS3rver } from "./s3rver-compat.js";

const PARENT_CHECK_MS = 500;

/** Browsers may PUT to the bucket from any page (presigned URLs carry the authority). */
const CORS_ANY_ORIGIN_PUT = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>`;

async function main(): Promise<void> {
  const [directory, portText, readyFile, corsBucket] = process.argv.slice(2);
  const port = Number(portText);
  if (!directory || !readyFile || !Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error("usage: demo-s3 DIRECTORY PORT READY_FILE [CORS_BUCKET]");
    process.exit(2);
  }
  const cors = corsBucket ? [{ name: corsBucket, configs: [CORS_ANY_ORIGIN_PUT] }] : [];
  const s3 = await serveS3rver(directory, port, undefined, cors);
  const parent = process.ppid;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    s3.stop().finally(() => process.exit(0));
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

main().catch((e: unknown) => {
  console.error(`demo-s3: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
