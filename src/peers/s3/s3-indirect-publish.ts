/**
 * Publishing an indirect upload to S3 (s3-indirect.ts): seal the staged
 * object, check it, then copy it server-side to the key's object, and
 * remove the staging (and its sealed copy) whatever happened.
 *
 * Sealing comes first, so that what is checked is what is published: the
 * client may still hold a working URL. A multipart upload is sealed by
 * completing it (from the parts S3 holds, ListParts: the gateway never
 * needs the client's ETags; its part URLs die with the upload id); an
 * object PUT in one piece is copied server-side to a fresh private name
 * the client has no URL for, and only that copy is checked and published.
 * A `CopySourceIfMatch` on the staging itself would not do: two blobs of
 * the same size and the same MD5 have the same ETag.
 *
 * The check: nothing is published over an object the key already has
 * (asked before the check, and again just before the copy: the answer is
 * then "stored", as git-annex answers ALREADY-HAVE); the object's size
 * against the key's, always; with "content", its content too: for an MD5
 * key, the sealed object's ETag (S3's MD5 of what it holds) answers
 * without a read; otherwise the object is read back and hashed as the
 * key's backend says. A key that cannot be verified by its content is
 * never published.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type Part,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type Key, keyHashPart, receiveVerification } from "../../keys/index.js";
import type { IndirectOutcome, IndirectStaging, IndirectVerify } from "../indirect.js";
import { PeerRefusedError } from "../peer.js";
import { s3ErrorCode, s3Failure, s3Status } from "./s3-failure.js";
import { objectName, type S3Settings } from "./s3-settings.js";
import { objectParams } from "./s3-storage.js";

/** A check that failed: why, in words for the gateway's log. */
class Refused {
  constructor(readonly reason: string) {}
}

interface Staged {
  readonly client: S3Client;
  readonly settings: S3Settings;
  readonly objectKey: string;
}

/**
 * Seal, check and publish `staging` as `key`'s object, `keyName` under
 * the fileprefix (the serialized key; an export remote's annexobjects
 * path); `discard` removes the staging (and is run however this ends).
 */
export async function publishStaged(
  client: S3Client,
  settings: S3Settings,
  staging: IndirectStaging,
  key: Key,
  keyName: string,
  verify: IndirectVerify,
  discard: () => Promise<void>,
): Promise<IndirectOutcome> {
  const s: Staged = { client, settings, objectKey: objectName(settings, staging.stagingName) };
  const keyObject = objectName(settings, keyName);
  let sealed: Staged | null = null;
  let readBack = 0;
  const refused = (reason: string): IndirectOutcome => ({ published: false, reason, readBack });
  try {
    if ((await headOf(s, keyObject)) !== null) return { published: true, readBack, already: true };
    const seal = await sealStaging(s, staging);
    if (seal instanceof Refused) return refused(seal.reason);
    sealed = seal;
    const head = await headOf(sealed, sealed.objectKey);
    if (head === null) return refused("nothing was uploaded");
    if (head.size !== staging.size || head.size !== key.size) {
      return refused("the uploaded object has the wrong size");
    }
    let etag = head.etag;
    if (verify === "content") {
      const checked = await checkContent(sealed, key, head.etag);
      readBack = checked.readBack;
      if (!checked.matches) return refused("the uploaded content is not the key's");
      etag = checked.etag;
    } else if (receiveVerification(key).kind !== "hash") {
      return refused("the key cannot be verified by its content");
    }
    // Never over what the key has: stored meanwhile by someone else, it stays.
    if ((await headOf(s, keyObject)) !== null) return { published: true, readBack, already: true };
    const copied = await copyToKey(sealed, keyName, etag);
    if (copied instanceof Refused) return refused(copied.reason);
    return { published: true, readBack };
  } finally {
    // A staging left by a failure here is swept once past its deadline.
    if (sealed !== null && sealed.objectKey !== s.objectKey) {
      await deleteObject(sealed).catch(() => undefined);
    }
    await discard().catch(() => undefined);
  }
}

/**
 * The staged object, sealed: the completed multipart upload, or a copy of
 * the one-PUT object under a fresh name of the same deadline (so a sweep
 * finds it, should the gateway stop before removing it).
 */
async function sealStaging(s: Staged, staging: IndirectStaging): Promise<Staged | Refused> {
  if (staging.uploadId !== undefined) {
    const done = await completeParts(s, staging, staging.uploadId);
    return done instanceof Refused ? done : s;
  }
  const name = staging.stagingName.replace(/[0-9a-f]{32}$/, randomBytes(16).toString("hex"));
  const sealed: Staged = { ...s, objectKey: objectName(s.settings, name) };
  try {
    await s.client.send(
      new CopyObjectCommand({
        Bucket: s.settings.bucket,
        Key: sealed.objectKey,
        CopySource: copySource(s),
      }),
    );
  } catch (e) {
    if (s3Status(e) === 404 && s3ErrorCode(e) !== "NoSuchBucket") {
      return new Refused("nothing was uploaded");
    }
    throw s3Failure(`CopyObject of ${s.objectKey}`, e);
  }
  return sealed;
}

async function deleteObject(s: Staged): Promise<void> {
  await s.client.send(new DeleteObjectCommand({ Bucket: s.settings.bucket, Key: s.objectKey }));
}

function copySource(s: Staged): string {
  return [s.settings.bucket, ...s.objectKey.split("/")].map(encodeURIComponent).join("/");
}

/** Every part, in order, of the length the plan gave it; then the upload completed. */
async function completeParts(
  s: Staged,
  staging: IndirectStaging,
  uploadId: string,
): Promise<Refused | undefined> {
  const partSize = staging.partSize ?? staging.size;
  const count = Math.ceil(staging.size / partSize);
  const held = await listParts(s, uploadId);
  if (held === null) return new Refused("the upload is unknown to the storage");
  if (held.length !== count) return new Refused("the parts uploaded are not the parts asked for");
  const complete: CompletedPart[] = [];
  for (const [i, part] of held.entries()) {
    const length = Math.min(partSize, staging.size - i * partSize);
    if (part.PartNumber !== i + 1 || part.Size !== length || !part.ETag) {
      return new Refused("the parts uploaded are not the parts asked for");
    }
    complete.push({ PartNumber: i + 1, ETag: part.ETag });
  }
  try {
    await s.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: s.settings.bucket,
        Key: s.objectKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: complete },
      }),
    );
  } catch (e) {
    // A part replaced since it was listed: its ETag no longer matches.
    if (s3ErrorCode(e) === "InvalidPart") return new Refused("a part changed as it was completed");
    throw s3Failure(`CompleteMultipartUpload of ${s.objectKey}`, e);
  }
  return undefined;
}

/** The parts S3 holds for the upload, by part number; null when it knows no such upload. */
async function listParts(s: Staged, uploadId: string): Promise<Part[] | null> {
  const parts: Part[] = [];
  let marker: string | undefined;
  for (;;) {
    let page: ListPartsCommandOutput;
    try {
      page = await s.client.send(
        new ListPartsCommand({
          Bucket: s.settings.bucket,
          Key: s.objectKey,
          UploadId: uploadId,
          ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
        }),
      );
    } catch (e) {
      if (s3Status(e) === 404) return null;
      throw s3Failure(`ListParts of ${s.objectKey}`, e);
    }
    parts.push(...(page.Parts ?? []));
    if (!page.IsTruncated || page.NextPartNumberMarker === undefined) break;
    marker = page.NextPartNumberMarker;
  }
  return parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
}

async function headOf(
  s: Staged,
  objectKey: string,
): Promise<{ size: number; etag: string } | null> {
  try {
    const h = await s.client.send(
      new HeadObjectCommand({ Bucket: s.settings.bucket, Key: objectKey }),
    );
    if (h.ContentLength !== undefined && h.ETag !== undefined) {
      return { size: h.ContentLength, etag: h.ETag };
    }
  } catch (e) {
    if (s3Status(e) === 404 && s3ErrorCode(e) !== "NoSuchBucket") return null;
    throw s3Failure(`HeadObject of ${objectKey}`, e);
  }
  throw new PeerRefusedError(`S3 HeadObject of ${objectKey} answered without a length or ETag`);
}

const MD5_BACKENDS: ReadonlySet<string> = new Set(["MD5", "MD5E"]);

/** Whether the staged object (whose ETag is `etag`) is `key`'s content, and the ETag of what was checked. */
async function checkContent(
  s: Staged,
  key: Key,
  etag: string,
): Promise<{ matches: boolean; etag: string; readBack: number }> {
  const verification = receiveVerification(key);
  // A key whose content says nothing of it (WORM, URL, unknown backends) is never taken.
  if (verification.kind !== "hash") return { matches: false, etag, readBack: 0 };
  // The sealed object's ETag is S3's MD5 of it when it was copied or PUT
  // whole (a multipart one's ends in "-N"); nobody but the gateway writes it.
  if (MD5_BACKENDS.has(key.backend) && etag.replace(/"/g, "") === keyHashPart(key)) {
    return { matches: true, etag, readBack: 0 };
  }
  let got: GetObjectCommandOutput;
  try {
    got = await s.client.send(
      new GetObjectCommand({ Bucket: s.settings.bucket, Key: s.objectKey }),
    );
  } catch (e) {
    if (s3Status(e) === 404 && s3ErrorCode(e) !== "NoSuchBucket") {
      return { matches: false, etag, readBack: 0 };
    }
    throw s3Failure(`GetObject of ${s.objectKey}`, e);
  }
  const body = got.Body;
  if (!(body instanceof Readable) || got.ETag === undefined) {
    if (body instanceof Readable) body.destroy();
    throw new PeerRefusedError(`S3 GetObject of ${s.objectKey} answered without a body or ETag`);
  }
  const verifier = verification.create();
  let readBack = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      verifier.update(chunk);
      readBack += chunk.byteLength;
    }
  } catch (e) {
    throw s3Failure(`GetObject of ${s.objectKey}`, e);
  }
  return { matches: verifier.matches(), etag: got.ETag, readBack };
}

/** Copy the checked staging (still with ETag `etag`) to the key's object. */
async function copyToKey(s: Staged, name: string, etag: string): Promise<Refused | undefined> {
  const source = copySource(s);
  const params = objectParams(s.settings, objectName(s.settings, name));
  try {
    await s.client.send(
      new CopyObjectCommand({
        ...params,
        CopySource: source,
        CopySourceIfMatch: etag,
        MetadataDirective: "REPLACE",
        ...(params.Tagging !== undefined ? { TaggingDirective: "REPLACE" as const } : {}),
      }),
    );
  } catch (e) {
    if (s3Status(e) === 412) return new Refused("the uploaded object changed as it was checked");
    if (s3Status(e) === 404 && s3ErrorCode(e) === "NoSuchKey") {
      return new Refused("the uploaded object went away as it was checked");
    }
    throw s3Failure(`CopyObject of ${s.objectKey}`, e);
  }
  return undefined;
}
