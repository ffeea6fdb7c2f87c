/**
 * The operations of the S3 API that s3rver 3.7.1 lacks, answered over
 * s3rver's own upload directory (`<bucket>/._S3rver_uploads/<uploadId>/`,
 * where its InitiateMultipartUpload writes and its CompleteMultipartUpload
 * removes): AbortMultipartUpload (`DELETE /bucket/key?uploadId=`),
 * ListMultipartUploads (`GET /bucket?uploads`) and ListParts
 * (`GET /bucket/key?uploadId=`). Without them s3rver takes the first for
 * a DeleteObject, the second for a listing of objects, and refuses the
 * third.
 * Shared by the tests' S3 server and the demo's. These answers do not
 * check the request's signature: for servers on loopback only.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

function uploadsDir(directory: string, bucket: string): string {
  return join(directory, bucket, "._S3rver_uploads");
}

export async function pendingUploadIds(directory: string, bucket: string): Promise<string[]> {
  return readdir(uploadsDir(directory, bucket)).catch(() => []);
}

/** Answers AbortMultipartUpload and ListMultipartUploads; false for anything else. */
export async function answerMissingOperation(
  directory: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://s3.invalid");
  const [, bucket = "", ...rest] = url.pathname.split("/");
  // "/bucket/?uploads" (as the SDK asks) is the bucket's.
  const keyParts = rest.join("/") === "" ? [] : rest;
  if (bucket === "" || /[/\\]|^\.\.?$/.test(decodeURIComponent(bucket))) return false;
  const uploadId = url.searchParams.get("uploadId");
  if (req.method === "DELETE" && uploadId !== null && keyParts.length > 0) {
    if (!/^[0-9a-f]+$/.test(uploadId)) return false;
    const dir = join(uploadsDir(directory, bucket), uploadId);
    const exists = await stat(dir).then(
      () => true,
      () => false,
    );
    if (exists) await rm(dir, { recursive: true, force: true });
    res.statusCode = exists ? 204 : 404;
    res.setHeader("content-type", "application/xml");
    res.end(exists ? "" : s3Error("NoSuchUpload", "The specified upload does not exist."));
    return true;
  }
  if (req.method === "GET" && uploadId !== null && keyParts.length > 0) {
    if (!/^[0-9a-f]+$/.test(uploadId)) return false;
    const parts = await listParts(join(uploadsDir(directory, bucket), uploadId));
    res.setHeader("content-type", "application/xml");
    if (parts === null) {
      res.statusCode = 404;
      res.end(s3Error("NoSuchUpload", "The specified upload does not exist."));
      return true;
    }
    res.statusCode = 200;
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>${xml(bucket)}</Bucket><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${parts
        .map(
          (p) =>
            `<Part><PartNumber>${p.n}</PartNumber><ETag>&quot;${p.md5}&quot;</ETag><Size>${p.size}</Size></Part>`,
        )
        .join("")}</ListPartsResult>`,
    );
    return true;
  }
  if (req.method === "GET" && url.searchParams.has("uploads") && keyParts.length === 0) {
    const uploads = await Promise.all(
      (await pendingUploadIds(directory, bucket)).map(async (id) => ({
        id,
        key: await readFile(join(uploadsDir(directory, bucket), id, "key"), "utf8"),
      })),
    );
    res.statusCode = 200;
    res.setHeader("content-type", "application/xml");
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${xml(bucket)}</Bucket><IsTruncated>false</IsTruncated>${uploads
        .map((u) => `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.id}</UploadId></Upload>`)
        .join("")}</ListMultipartUploadsResult>`,
    );
    return true;
  }
  return false;
}

/** The parts s3rver keeps for an upload (files named by part number), or null when there is no such upload. */
async function listParts(dir: string): Promise<{ n: number; md5: string; size: number }[] | null> {
  const names = await readdir(dir).catch(() => null);
  if (names === null) return null;
  const numbers = names.filter((n) => /^[0-9]+$/.test(n)).map(Number);
  return Promise.all(
    numbers
      .sort((a, b) => a - b)
      .map(async (n) => {
        const bytes = await readFile(join(dir, String(n)));
        return { n, md5: createHash("md5").update(bytes).digest("hex"), size: bytes.length };
      }),
  );
}

function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`;
}

function xml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}

/**
 * s3rver on `port` (0: a free one) over `directory`, with the missing
 * operations answered; `configureBuckets` (s3rver's option) makes
 * buckets with their configuration (such as CORS) before it serves.
 */
export async function serveS3rver(
  directory: string,
  port: number,
  heldFor: (req: IncomingMessage) => { count: number; released: Promise<void> } | null = () => null,
  configureBuckets: readonly { name: string; configs: string[] }[] = [],
): Promise<{ port: number; stop(): Promise<void> }> {
  // s3rver is CommonJS without types; it is the only untyped import here.
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const s3 = new S3rver({
    address: "127.0.0.1",
    port,
    directory,
    silent: true,
    // Virtual-host buckets are matched against serviceEndpoint; the tests
    // and the demo use path-style requests only.
    vhostBuckets: false,
    configureBuckets,
  });
  const started = await s3.run();
  const server = s3.httpServer;
  if (server === undefined) throw new Error("s3rver started without an HTTP server");
  const s3rverHandler = server.listeners("request")[0] as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => void;
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const held = heldFor(req);
    if (held) held.count += 1;
    (held?.released ?? Promise.resolve())
      .then(() => answerMissingOperation(directory, req, res))
      .then(
        (handled) => {
          if (!handled) s3rverHandler(req, res);
        },
        (e: unknown) => {
          res.statusCode = 500;
          res.end(String(e));
        },
      );
  });
  return {
    port: started.port,
    stop: async () => {
      server.closeAllConnections();
      await s3.close();
    },
  };
}
