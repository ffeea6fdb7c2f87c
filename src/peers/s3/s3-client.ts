/**
 * The AWS SDK v3 S3 client for one remote's settings and credentials.
 *
 * Checksums: the SDK by default adds CRC32 checksums to every upload (with
 * aws-chunked bodies for streams) and checks them on downloads; many
 * S3-compatible servers (s3rver, older MinIO and Ceph) answer those with
 * errors. git-annex's own S3 client sends none, so neither does this one
 * unless an operation requires it. Uploads are buffers, so signature v4
 * still covers every byte with its SHA-256 payload hash.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { S3Credentials } from "./credentials.js";
import type { S3Settings } from "./s3-settings.js";

/**
 * The SDK warns on Node 20 (once per process, on stderr) that its releases
 * after January 2027 will need Node 22. Its documented switch turns the
 * warning off; an operator who set the variable either way is obeyed.
 */
function quietNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}

export function createS3Client(
  settings: S3Settings,
  credentials: S3Credentials,
  opts: { maxSockets?: number; maxAttempts?: number } = {},
): S3Client {
  quietNodeVersionWarning();
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.pathStyle,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
    },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
    ...(opts.maxSockets !== undefined
      ? {
          requestHandler: {
            httpAgent: { maxSockets: opts.maxSockets, keepAlive: true },
            httpsAgent: { maxSockets: opts.maxSockets, keepAlive: true },
          },
        }
      : {}),
  });
}
