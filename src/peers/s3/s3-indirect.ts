/**
 * Indirect uploads to an S3 remote's bucket (peers/indirect.ts): the
 * client PUTs to presigned URLs of a staging object,
 * `<fileprefix>annexgate-indirect/<deadline>-<random>` (an export
 * remote's under `.git/`, beside its annexobjects), never to a key's
 * object, so a client that lies can never overwrite good content; small
 * content goes in one PUT, content larger than a part in the parts of a
 * multipart upload the gateway begins (and completes itself: the client
 * never needs the parts' ETags). Publishing (s3-indirect-publish.ts)
 * checks the staged object, then copies it server-side to the key's
 * object, with the remote's storage class, metadata, tags and ACL. The
 * key's object is `<fileprefix><key>`, or for an export remote with
 * `annexobjects=yes`, its annexobjects copy
 * `<fileprefix>.git/annex/objects/<hashdirlower>/<key>/<key>`, where
 * git-annex stores a key sent to such a remote (ExportImport.hs).
 *
 * The URLs are signed with the remote's own S3 client, for its endpoint
 * as configured: the client must be able to reach that endpoint. The
 * deadline in a staging's name lets any gateway tell a leftover (a client
 * that never finished, a PUT after the gateway was done, a gateway that
 * stopped) from a live upload: `sweep` removes those past it.
 */
import { randomBytes } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { formatKey, type Key } from "../../keys/index.js";
import type { SpecialRemoteConfig } from "../../remotes/index.js";
import type {
  IndirectOutcome,
  IndirectStaged,
  IndirectStaging,
  IndirectStorage,
  IndirectUnavailable,
  IndirectVerify,
} from "../indirect.js";
import { PeerRefusedError } from "../peer.js";
import { cipherConfigOf } from "../special/cipher-config.js";
import { annexObjectLocation } from "../special/export-index.js";
import { isExportRemote } from "../special/open-export.js";
import { chunkConfig } from "../special/special-config.js";
import { DEFAULT_PART_SIZE } from "./multipart-sink.js";
import { s3ErrorCode, s3Failure, s3Status } from "./s3-failure.js";
import { publishStaged } from "./s3-indirect-publish.js";
import { objectName, type S3Settings } from "./s3-settings.js";

/** Where stagings are named, under the remote's fileprefix. */
export const STAGING_DIR = "annexgate-indirect/";
/** S3's largest single PUT, and its largest single copy: the most an indirect upload takes. */
export const MAX_INDIRECT_SIZE = 5 * 1024 ** 3;
/** S3's most parts in one upload. */
const MAX_PARTS = 10_000;
/** S3's smallest part (but the last): CompleteMultipartUpload refuses smaller ones. */
export const MIN_PART_SIZE = 5 * 1024 ** 2;

/**
 * Why the remote takes no indirect uploads, or null when it does: the
 * staged object must be the key's whole, plain content under its own
 * name, so chunked and encrypted remotes are left to normal puts, as are
 * export remotes without annexobjects (no name stores a key by key). An
 * export remote's annexobjects copy is whole whatever `chunk=` says.
 */
export function indirectRefusal(special: SpecialRemoteConfig): IndirectUnavailable | null {
  if (isExportRemote(special)) {
    if (special.fields.annexobjects !== "yes") {
      return { unavailable: "the remote is an export remote without annexobjects=yes" };
    }
  } else {
    const chunking = chunkConfig(special);
    if (typeof chunking === "string" || chunking.chunkSize !== null) {
      return { unavailable: "the remote is chunked" };
    }
  }
  const cipher = cipherConfigOf(special);
  if (cipher.kind === "refused" || (cipher.kind === "cipher" && !cipher.config.onlyCreds)) {
    return { unavailable: "the remote is encrypted" };
  }
  return null;
}

/** Where, under the fileprefix, a remote's key objects and stagings are named. */
export interface IndirectNaming {
  readonly keyName: (key: Key) => string;
  readonly stagingDir: string;
}

const PLAIN_NAMING: IndirectNaming = { keyName: formatKey, stagingDir: STAGING_DIR };
/** Under `.git`, a name no exported tree addresses (export-index.ts `isSafeExportPath`). */
const EXPORT_NAMING: IndirectNaming = {
  keyName: annexObjectLocation,
  stagingDir: `.git/${STAGING_DIR}`,
};

/** The naming of the remote's indirect uploads: an export remote's is its annexobjects'. */
export function indirectNaming(special: SpecialRemoteConfig): IndirectNaming {
  return isExportRemote(special) ? EXPORT_NAMING : PLAIN_NAMING;
}

/** The deadline (seconds since the epoch) in a staging's name, or null when it is none of ours. */
export function stagingDeadline(name: string, stagingDir = STAGING_DIR): number | null {
  if (!name.startsWith(stagingDir)) return null;
  const m = /^([0-9]{1,15})-[0-9a-f]{32}$/.exec(name.slice(stagingDir.length));
  return m ? Number(m[1]) : null;
}

export class S3IndirectStorage implements IndirectStorage {
  readonly #client: S3Client;
  readonly #settings: S3Settings;
  readonly #naming: IndirectNaming;

  /** @param naming the names of key objects and stagings: indirectNaming */
  constructor(client: S3Client, settings: S3Settings, naming: IndirectNaming = PLAIN_NAMING) {
    this.#client = client;
    this.#settings = settings;
    this.#naming = naming;
  }

  async stage(
    size: number,
    opts: { readonly expiresSeconds: number; readonly partSize?: number },
  ): Promise<IndirectStaged | string> {
    if (size > MAX_INDIRECT_SIZE) return "the content is too large for an indirect upload";
    const expiresSeconds = opts.expiresSeconds;
    // Twice the URLs' life: a PUT begun just before they expire may end later.
    const deadline = Date.now() + 2 * expiresSeconds * 1000;
    const stagingName = `${this.#naming.stagingDir}${Math.ceil(deadline / 1000)}-${randomBytes(16).toString("hex")}`;
    const objectKey = objectName(this.#settings, stagingName);
    const base = opts.partSize ?? this.#settings.partSize ?? DEFAULT_PART_SIZE;
    const partSize = Math.max(base, MIN_PART_SIZE);
    // Bounds the answer too (one URL a part): at most 1,024 within these limits.
    if (Math.ceil(size / partSize) > MAX_PARTS) {
      return "the content needs more parts than an S3 upload takes";
    }
    const bucket = this.#settings.bucket;
    const signed = { expiresIn: expiresSeconds };
    if (size <= partSize) {
      const url = await getSignedUrl(
        this.#client,
        new PutObjectCommand({ Bucket: bucket, Key: objectKey }),
        signed,
      );
      return {
        staging: { stagingName, size, expiresSeconds, deadline },
        plan: { kind: "put", url },
      };
    }
    const created = await this.#client
      .send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: objectKey }))
      .catch((e: unknown) => {
        throw s3Failure(`CreateMultipartUpload of ${objectKey}`, e);
      });
    const uploadId = created.UploadId;
    if (uploadId === undefined || uploadId === "") {
      throw new PeerRefusedError(`S3 CreateMultipartUpload of ${objectKey} gave no upload id`);
    }
    const parts: { offset: number; length: number; url: string }[] = [];
    for (let offset = 0, n = 1; offset < size; offset += partSize, n++) {
      const command = new UploadPartCommand({
        Bucket: bucket,
        Key: objectKey,
        UploadId: uploadId,
        PartNumber: n,
      });
      const url = await getSignedUrl(this.#client, command, signed);
      parts.push({ offset, length: Math.min(partSize, size - offset), url });
    }
    return {
      staging: { stagingName, uploadId, size, partSize, expiresSeconds, deadline },
      plan: { kind: "parts", parts },
    };
  }

  publish(staging: IndirectStaging, key: Key, verify: IndirectVerify): Promise<IndirectOutcome> {
    const name = this.#naming.keyName(key);
    return publishStaged(this.#client, this.#settings, staging, key, name, verify, () =>
      this.discard(staging),
    );
  }

  async discard(staging: IndirectStaging): Promise<void> {
    const objectKey = objectName(this.#settings, staging.stagingName);
    if (staging.uploadId !== undefined) await this.#abort(objectKey, staging.uploadId);
    await this.#delete(objectKey);
  }

  async sweep(live: ReadonlySet<string>): Promise<number> {
    const now = Date.now() / 1000;
    const prefix = objectName(this.#settings, this.#naming.stagingDir);
    const dead = (objectKey: string): boolean => {
      const name = objectKey.slice(this.#settings.filePrefix.length);
      const deadline = stagingDeadline(name, this.#naming.stagingDir);
      return deadline !== null && deadline < now && !live.has(name);
    };
    let removed = 0;
    for (const objectKey of await this.#listObjects(prefix)) {
      if (!dead(objectKey)) continue;
      await this.#delete(objectKey);
      removed++;
    }
    for (const u of await this.#listUploads(prefix)) {
      if (!dead(u.key)) continue;
      await this.#abort(u.key, u.uploadId);
      removed++;
    }
    return removed;
  }

  async #listObjects(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#client
        .send(
          new ListObjectsV2Command({
            Bucket: this.#settings.bucket,
            Prefix: prefix,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        )
        .catch((e: unknown) => {
          throw s3Failure(`ListObjectsV2 of ${prefix}`, e);
        });
      for (const o of page.Contents ?? []) if (o.Key?.startsWith(prefix)) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  async #listUploads(prefix: string): Promise<{ key: string; uploadId: string }[]> {
    const out: { key: string; uploadId: string }[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await this.#client
        .send(
          new ListMultipartUploadsCommand({
            Bucket: this.#settings.bucket,
            Prefix: prefix,
            ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
            ...(idMarker !== undefined ? { UploadIdMarker: idMarker } : {}),
          }),
        )
        .catch((e: unknown) => {
          throw s3Failure(`ListMultipartUploads of ${prefix}`, e);
        });
      for (const u of page.Uploads ?? []) {
        if (u.Key?.startsWith(prefix) && u.UploadId) out.push({ key: u.Key, uploadId: u.UploadId });
      }
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
      if (keyMarker === undefined && idMarker === undefined) return out;
    }
  }

  async #delete(objectKey: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#settings.bucket, Key: objectKey }),
      );
    } catch (e) {
      if (s3Status(e) === 404 && s3ErrorCode(e) === "NoSuchKey") return;
      throw s3Failure(`DeleteObject of ${objectKey}`, e);
    }
  }

  async #abort(objectKey: string, uploadId: string): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.#settings.bucket,
          Key: objectKey,
          UploadId: uploadId,
        }),
      );
    } catch (e) {
      if (s3Status(e) === 404) return;
      throw s3Failure(`AbortMultipartUpload of ${objectKey}`, e);
    }
  }
}
