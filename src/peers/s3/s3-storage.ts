/**
 * An S3 bucket as a special remote's storage, in git-annex's layout
 * (Remote/S3.hs): the object of a key is `fileprefix` + the serialized
 * key, stored with the remote's storage class, `x-amz-meta-*` metadata,
 * tagging and (with `public=yes`) the public-read ACL.
 *
 * Staging is a multipart upload: the sink begins it once a first part is
 * full and uploads the parts, `publish` completes it (only then does the
 * object exist under its name) and `discard` aborts it, so neither
 * half-written objects nor incomplete uploads are left behind. An object
 * smaller than a part is held by the sink and stored with one PutObject
 * when published: visible, again, only once verified. Staged bytes are never
 * kept for a resume: `stagedLength` is always 0, and a resumed store
 * starts again from the first byte.
 *
 * An abort that cannot reach the server (it went away mid-upload) leaves
 * the upload behind; the next store of the same object aborts every
 * upload of that object it finds unfinished before it begins its own, so
 * a cut store is cleaned up as soon as the server is back.
 *
 * Reads are ranged GETs streamed from the requested offset.
 *
 * An export remote's files are objects too: `fileprefix` + the file's
 * path (Remote/S3.hs `getBucketExportLocation`), stored the same way, so
 * the storage addressed by path (`byPath`) is the same operations with a
 * path in place of the serialized key. A rename is a server-side copy
 * (metadata kept, the ACL set again: a copy does not keep it) and then a
 * delete of the source, as Remote/S3.hs `renameExportS3` does.
 */

import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { PeerRefusedError } from "../peer.js";
import type {
  PathStorage,
  SpecialStorage,
  StagedObject,
  StoredObject,
} from "../special/storage.js";
import { DEFAULT_PART_SIZE, MultipartSink } from "./multipart-sink.js";
import { s3ErrorCode, s3Failure, s3Status } from "./s3-failure.js";
import { objectName, type S3Settings } from "./s3-settings.js";

export class S3Storage implements SpecialStorage {
  readonly #client: S3Client;
  readonly #settings: S3Settings;

  /** The bucket addressed by path, for an export remote (`fileprefix` + path). */
  readonly byPath: PathStorage = {
    stage: (path, opts = {}) => this.stage(path, opts.signal ? { signal: opts.signal } : {}),
    read: (path, offset, signal) => this.read(path, offset, signal),
    has: (path, signal) => this.has(path, signal),
    remove: (path, signal) => this.remove(path, signal),
    rename: (from, to, signal) => this.#rename(from, to, signal),
  };

  constructor(client: S3Client, settings: S3Settings) {
    this.#client = client;
    this.#settings = settings;
  }

  async stage(
    name: string,
    opts: { resumeFrom?: number; signal?: AbortSignal } = {},
  ): Promise<StagedObject> {
    if ((opts.resumeFrom ?? 0) > 0) {
      // stagedLength answered 0: the Peer above never asks for more.
      throw new PeerRefusedError("S3 storage cannot resume a staged object", { name });
    }
    const key = objectName(this.#settings, name);
    const s = this.#settings;
    const begin = async (): Promise<string> => {
      await this.#abortLeftUploads(key, opts.signal);
      const created = await this.#client
        .send(new CreateMultipartUploadCommand(this.#objectParams(key)), sendOptions(opts.signal))
        .catch(rethrowAs(`CreateMultipartUpload of ${key}`));
      const uploadId = created.UploadId;
      if (uploadId === undefined || uploadId === "") {
        throw new PeerRefusedError(`S3 CreateMultipartUpload of ${key} gave no upload id`, {
          name,
        });
      }
      return uploadId;
    };
    const target = { client: this.#client, bucket: s.bucket, key, begin };
    const sink = new MultipartSink(target, s.partSize ?? DEFAULT_PART_SIZE, opts.signal);
    return new StagedMultipart(this, key, sink);
  }

  #objectParams(key: string) {
    return objectParams(this.#settings, key);
  }

  /**
   * Abort the unfinished uploads of `key` that earlier stores left (their
   * own abort failed). Best effort: a server that cannot list uploads
   * leaves them, and the store goes on.
   */
  async #abortLeftUploads(key: string, signal?: AbortSignal): Promise<void> {
    let uploads: { Key?: string | undefined; UploadId?: string | undefined }[];
    try {
      const listed = await this.#client.send(
        new ListMultipartUploadsCommand({ Bucket: this.#settings.bucket, Prefix: key }),
        sendOptions(signal),
      );
      uploads = listed.Uploads ?? [];
    } catch {
      return;
    }
    for (const u of uploads) {
      if (u.Key !== key || u.UploadId === undefined || u.UploadId === "") continue;
      await this.abort({ key, uploadId: u.UploadId }).catch(() => undefined);
    }
  }

  /** Never any: staged parts are not kept (see the module's comment). */
  async stagedLength(_name: string): Promise<number> {
    return 0;
  }

  async read(name: string, offset: number, signal?: AbortSignal): Promise<StoredObject | null> {
    const key = objectName(this.#settings, name);
    let got: GetObjectCommandOutput;
    try {
      got = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#settings.bucket,
          Key: key,
          ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
        }),
        sendOptions(signal),
      );
    } catch (e) {
      if (s3Status(e) === 404 && s3ErrorCode(e) !== "NoSuchBucket") return null;
      // An offset at (or past) the end: present, with nothing left to send.
      if (s3Status(e) === 416) return (await this.has(name, signal)) ? emptyObject() : null;
      throw s3Failure(`GetObject of ${key}`, e);
    }
    const body = got.Body;
    if (!(body instanceof Readable) || got.ContentLength === undefined) {
      if (body instanceof Readable) body.destroy();
      throw new PeerRefusedError(`S3 GetObject of ${key} answered without a length`, { name });
    }
    return { length: got.ContentLength, data: body };
  }

  async has(name: string, signal?: AbortSignal): Promise<boolean> {
    const key = objectName(this.#settings, name);
    try {
      await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#settings.bucket, Key: key }),
        sendOptions(signal),
      );
      return true;
    } catch (e) {
      // HEAD answers have no body: a missing bucket is a 404 too, and a
      // missing bucket is no answer about the object.
      if (s3Status(e) === 404 && s3ErrorCode(e) !== "NoSuchBucket") return false;
      throw s3Failure(`HeadObject of ${key}`, e);
    }
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    const key = objectName(this.#settings, name);
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#settings.bucket, Key: key }),
        sendOptions(signal),
      );
    } catch (e) {
      // S3 answers 204 for an absent object; some compatible servers 404.
      if (s3Status(e) === 404 && s3ErrorCode(e) === "NoSuchKey") return;
      throw s3Failure(`DeleteObject of ${key}`, e);
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  /** @internal Store an object smaller than a part whole (StagedMultipart.publish). */
  async putWhole(key: string, body: Buffer): Promise<void> {
    await this.#client
      .send(
        new PutObjectCommand({
          ...this.#objectParams(key),
          Body: body,
          ContentLength: body.length,
        }),
      )
      .catch(rethrowAs(`PutObject of ${key}`));
  }

  async #rename(from: string, to: string, signal?: AbortSignal): Promise<void> {
    const s = this.#settings;
    const source = objectName(s, from);
    const dest = objectName(s, to);
    // The copy source is "bucket/key", URL-encoded segment by segment.
    const copySource = [s.bucket, ...source.split("/")].map(encodeURIComponent).join("/");
    await this.#client
      .send(
        new CopyObjectCommand({
          Bucket: s.bucket,
          Key: dest,
          CopySource: copySource,
          MetadataDirective: "COPY",
          ...(s.publicRead ? { ACL: "public-read" } : {}),
        }),
        sendOptions(signal),
      )
      .catch(rethrowAs(`CopyObject of ${source} to ${dest}`));
    await this.remove(from, signal);
  }

  /** @internal Complete a staged upload (StagedMultipart.publish). */
  async complete(target: { key: string; uploadId: string }, sink: MultipartSink): Promise<void> {
    await this.#client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket: this.#settings.bucket,
          Key: target.key,
          UploadId: target.uploadId,
          MultipartUpload: { Parts: [...sink.parts] },
        }),
      )
      .catch(rethrowAs(`CompleteMultipartUpload of ${target.key}`));
  }

  /** @internal Abort a staged upload (StagedMultipart.discard); an upload already gone is fine. */
  async abort(target: { key: string; uploadId: string }): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.#settings.bucket,
          Key: target.key,
          UploadId: target.uploadId,
        }),
      );
    } catch (e) {
      if (s3Status(e) === 404) return;
      throw s3Failure(`AbortMultipartUpload of ${target.key}`, e);
    }
  }
}

/** What an object is stored with: its place, storage class, metadata, tags, ACL. */
export function objectParams(s: S3Settings, key: string) {
  return {
    Bucket: s.bucket,
    Key: key,
    StorageClass: s.storageClass as StorageClass,
    Metadata: { ...s.metadata },
    ...(s.tagging !== undefined ? { Tagging: s.tagging } : {}),
    ...(s.publicRead ? { ACL: "public-read" as const } : {}),
  };
}

function sendOptions(signal?: AbortSignal): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

function rethrowAs(what: string): (e: unknown) => never {
  return (e) => {
    throw s3Failure(what, e);
  };
}

function emptyObject(): StoredObject {
  return { length: 0, data: Readable.from([]) };
}

/**
 * One staged object: a multipart upload, completed or aborted exactly
 * once; or, smaller than a part, its bytes stored whole when published.
 */
class StagedMultipart implements StagedObject {
  #settled = false;

  constructor(
    private readonly storage: S3Storage,
    private readonly key: string,
    readonly sink: MultipartSink,
  ) {}

  async publish(): Promise<void> {
    if (this.#settled) throw new PeerRefusedError("S3 staged object already settled");
    if (!this.sink.writableFinished || this.sink.errored !== null) {
      throw new PeerRefusedError(`S3 staged object ${this.key} was not written whole`);
    }
    this.#settled = true;
    const uploadId = this.sink.uploadId;
    const whole = this.sink.wholeObject;
    if (uploadId === undefined) {
      if (whole === null) throw new PeerRefusedError(`S3 staged object ${this.key} holds nothing`);
      await this.storage.putWhole(this.key, whole);
      return;
    }
    const target = { key: this.key, uploadId };
    try {
      await this.storage.complete(target, this.sink);
    } catch (e) {
      // Never leave the parts behind, whatever completing said.
      await this.storage.abort(target).catch(() => undefined);
      throw e;
    }
  }

  async discard(): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    // A part still uploading (or an upload still beginning) could land
    // after the abort and leave the upload behind: stop writing, wait for
    // it, then abort.
    if (!this.sink.destroyed) this.sink.destroy();
    await this.sink.settled();
    const uploadId = this.sink.uploadId;
    if (uploadId !== undefined) await this.storage.abort({ key: this.key, uploadId });
  }
}
