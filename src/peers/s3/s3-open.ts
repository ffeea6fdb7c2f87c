/**
 * The part of opening an S3 remote that needs the AWS SDK: the client,
 * the bucket's `annex-uuid` check, and the SpecialPeer over S3Storage
 * (with the bucket's indirect uploads beside it).
 * It is its own module so that s3-kind.ts can load it (and the SDK, the
 * largest dependency: about half a second of start-up on a loaded
 * machine) only when an S3 remote is opened, not in every
 * `annexgate shell` session.
 */
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import type { Remote, SpecialRemoteConfig } from "../../remotes/index.js";
import type { PeerOpenContext, RemoteConnection } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { openSpecialPeer } from "../special/open-special.js";
import type { S3Credentials } from "./credentials.js";
import { createS3Client } from "./s3-client.js";
import { s3ErrorCode, s3Failure, s3Status } from "./s3-failure.js";
import { indirectNaming, indirectRefusal, S3IndirectStorage } from "./s3-indirect.js";
import { type S3Settings, uuidObjectName } from "./s3-settings.js";
import { S3Storage } from "./s3-storage.js";

/** git-annex's words for a bucket whose annex-uuid names another remote. */
const OTHER_UUID =
  "The bucket already exists, and its annex-uuid file indicates it is used by a different special remote.";

/** More than any UUID: the rest of a longer annex-uuid object is not read. */
const UUID_READ_LIMIT = 1024;

/** A client for the bucket, its annex-uuid checked, and the remote's Peer over it. */
export async function openS3Remote(
  remote: Remote,
  special: SpecialRemoteConfig,
  settings: S3Settings,
  credentials: S3Credentials,
  ctx: PeerOpenContext,
): Promise<RemoteConnection> {
  const client = createS3Client(settings, credentials, {
    ...(ctx.maxConnections !== undefined ? { maxSockets: ctx.maxConnections } : {}),
  });
  try {
    // git-annex writes no annex-uuid object to an export or import
    // bucket, nor checks one there (Remote/S3.hs writeUUIDFile).
    const exportOrImport =
      special.fields.exporttree === "yes" || special.fields.importtree === "yes";
    if (!exportOrImport) await checkBucketUuid(client, settings, remote);
  } catch (e) {
    client.destroy();
    throw e;
  }
  const conn = await openSpecialPeer(remote, special, new S3Storage(client, settings), ctx);
  // Indirect uploads (annexgate's extension) sign URLs with the same client.
  const indirect =
    indirectRefusal(special) ?? new S3IndirectStorage(client, settings, indirectNaming(special));
  return { ...conn, indirect };
}

async function checkBucketUuid(client: S3Client, settings: S3Settings, remote: Remote) {
  const key = uuidObjectName(settings);
  let got: GetObjectCommandOutput;
  try {
    got = await client.send(
      new GetObjectCommand({
        Bucket: settings.bucket,
        Key: key,
        Range: `bytes=0-${UUID_READ_LIMIT - 1}`,
      }),
    );
  } catch (e) {
    const code = s3ErrorCode(e);
    if (code === "NoSuchBucket") {
      throw new UnreachableRemoteError(remote, `S3 bucket ${settings.bucket} does not exist`, e);
    }
    if (s3Status(e) === 404) {
      throw new UnreachableRemoteError(
        remote,
        `S3 bucket ${settings.bucket} has no ${key} object, so it is not known to be this special remote's bucket`,
        e,
      );
    }
    throw new UnreachableRemoteError(remote, s3Failure(`GetObject of ${key}`, e).message, e);
  }
  const text = (await got.Body?.transformToString()) ?? "";
  // A ranged answer names the whole length: a longer object is not the UUID.
  const whole = got.ContentRange === undefined || got.ContentRange.endsWith(`/${text.length}`);
  if (!whole || text !== remote.uuid) throw new UnreachableRemoteError(remote, OTHER_UUID);
}
