/**
 * S3 special remotes (`type=S3`, S3-compatible stores included): a
 * SpecialPeer over the remote's bucket. Opening checks, in this order, and
 * refuses with a reason that names no host or path of this machine:
 * chunked remotes, encryption other than encryption=shared, and other
 * features not served yet; the
 * settings git-annex would refuse; credentials (as git-annex finds them);
 * and the bucket's `annex-uuid` object, which must hold the remote's
 * UUID, as git-annex requires of a bucket it reuses (Remote/S3.hs
 * writeUUIDFile). Unlike `git annex enableremote`, the gateway never
 * writes that object: an absent one is refused.
 */
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import type { Remote } from "../../remotes/index.js";
import type { PeerKind } from "../registry.js";
import { UnreachableRemoteError } from "../registry.js";
import { openSpecialPeer } from "../special/open-special.js";
import { unsupportedSpecialFeature } from "../special/special-config.js";
import { findS3Credentials, S3CredentialsError } from "./credentials.js";
import { createS3Client } from "./s3-client.js";
import { s3ErrorCode, s3Failure, s3Status } from "./s3-failure.js";
import { readS3Settings, type S3Settings, S3SettingsError, uuidObjectName } from "./s3-settings.js";
import { S3Storage } from "./s3-storage.js";

/** git-annex's words for a bucket whose annex-uuid names another remote. */
const OTHER_UUID =
  "The bucket already exists, and its annex-uuid file indicates it is used by a different special remote.";

/** More than any UUID: the rest of a longer annex-uuid object is not read. */
const UUID_READ_LIMIT = 1024;

/** The S3 kind, finding credentials in `env` (then the gateway's cache, then remote.log). */
export function s3KindWith(env: Readonly<Record<string, string | undefined>>): PeerKind<"S3"> {
  return {
    kind: "S3",
    async open(remote, transport, ctx) {
      const special = transport.special;
      const unsupported = unsupportedSpecialFeature(special);
      if (unsupported !== null) throw new UnreachableRemoteError(remote, unsupported);
      let settings: S3Settings;
      try {
        settings = readS3Settings(special);
      } catch (e) {
        if (e instanceof S3SettingsError) throw new UnreachableRemoteError(remote, e.message);
        throw e;
      }
      const credentials = await findS3Credentials(remote.uuid, special, {
        env,
        ...(ctx.git ? { gitDir: ctx.git.gitDir } : {}),
      }).catch((e: unknown) => {
        if (e instanceof S3CredentialsError) throw new UnreachableRemoteError(remote, e.message);
        throw e;
      });
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
      return openSpecialPeer(remote, special, new S3Storage(client, settings), ctx);
    },
  };
}

/** The S3 kind of the built-in registry: credentials from this process's environment first. */
export const s3Kind: PeerKind<"S3"> = s3KindWith(process.env);

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
