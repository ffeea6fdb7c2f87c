/**
 * The Writable a staged S3 object is written through: its bytes become
 * the parts of one multipart upload, begun only once a first part is
 * full. An object smaller than one part never begins one: its bytes stay
 * in `wholeObject`, for a single PutObject when it is published (one
 * request instead of four; git-annex stores such an object with one
 * PutObject too). At most one part is held in memory:
 * bytes are copied into the part's buffer as they come, and while a full
 * part is being uploaded the writer waits (backpressure), so a slow S3
 * server slows the sender instead of filling the gateway's memory.
 *
 * The part buffer is allocated at the part size without being filled
 * (Buffer.allocUnsafe: the pages of a large buffer are only committed as
 * they are written), so a small object costs its own size, not a part's.
 */

import { Writable } from "node:stream";
import { type CompletedPart, type S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { PeerRefusedError } from "../peer.js";
import { s3Failure } from "./s3-failure.js";

/** S3's smallest part (all but the last must be at least this). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part. */
const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/** The part size when the remote has no `partsize=`. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/**
 * S3 allows 10,000 parts; the object's length is not known when it is
 * staged, so the part size doubles every 1000 parts (8 MiB parts reach
 * 440 GiB before the limit).
 */
const PARTS_PER_SIZE = 1000;

export interface MultipartTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** Begins the multipart upload (when a first part is full): its id. */
  readonly begin: () => Promise<string>;
}

export class MultipartSink extends Writable {
  readonly #target: MultipartTarget;
  readonly #basePartSize: number;
  readonly #signal: AbortSignal | undefined;
  readonly #parts: CompletedPart[] = [];
  #buf: Buffer | null = null;
  #filled = 0;
  #inFlight: Promise<void> = Promise.resolve();
  #uploadId: string | undefined;
  #whole: Buffer | null = null;

  constructor(target: MultipartTarget, partSize: number, signal?: AbortSignal) {
    // The sender waits while a part uploads; a little slack keeps socket reads flowing.
    super({ highWaterMark: 256 * 1024 });
    this.#target = target;
    this.#basePartSize = Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, partSize));
    this.#signal = signal;
  }

  /** The uploaded parts, in order: what completing the upload names. */
  get parts(): readonly CompletedPart[] {
    return this.#parts;
  }

  /** The multipart upload's id, once one was begun. */
  get uploadId(): string | undefined {
    return this.#uploadId;
  }

  /**
   * The whole object, once the sink finished without beginning an upload
   * (it was smaller than one part); null otherwise.
   */
  get wholeObject(): Buffer | null {
    return this.#whole;
  }

  /** Resolves once no part upload is running (the last one may have failed). */
  settled(): Promise<void> {
    return this.#inFlight.catch(() => undefined);
  }

  #partSize(partNumber: number): number {
    const doublings = Math.floor((partNumber - 1) / PARTS_PER_SIZE);
    return Math.min(MAX_PART_SIZE, this.#basePartSize * 2 ** doublings);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (e?: Error | null) => void): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  async #take(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      const size = this.#partSize(this.#parts.length + 1);
      if (this.#buf === null || this.#buf.length !== size) this.#buf = Buffer.allocUnsafe(size);
      const n = rest.copy(this.#buf, this.#filled);
      this.#filled += n;
      rest = rest.subarray(n);
      if (this.#filled === size) await this.#upload();
    }
  }

  override _final(callback: (e?: Error | null) => void): void {
    if (this.#uploadId === undefined) {
      // Smaller than a part (an empty object too): kept whole.
      this.#whole = (this.#buf ?? Buffer.alloc(0)).subarray(0, this.#filled);
      this.#buf = null;
      callback();
      return;
    }
    // The last part may be short.
    (this.#filled > 0 ? this.#upload() : Promise.resolve()).then(() => {
      this.#buf = null;
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (e?: Error | null) => void): void {
    // The whole object stays: a finished sink is destroyed (autoDestroy)
    // before it is published.
    this.#buf = null;
    callback(error);
  }

  async #upload(): Promise<void> {
    // A sink given up on (discarded) uploads nothing more: what it began
    // is aborted once `settled` resolves.
    if (this.destroyed) throw new PeerRefusedError("S3 staged object was discarded");
    const partNumber = this.#parts.length + 1;
    const body = (this.#buf ?? Buffer.alloc(0)).subarray(0, this.#filled);
    const { client, bucket, key } = this.#target;
    let stage = "UploadPart";
    const sent = (async () => {
      if (this.#uploadId === undefined) {
        stage = "begin";
        this.#uploadId = await this.#target.begin();
        stage = "UploadPart";
      }
      return client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: this.#uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
        this.#signal ? { abortSignal: this.#signal } : {},
      );
    })();
    // Beginning counts as in flight: an upload begun during a discard is
    // still aborted after it.
    this.#inFlight = sent.then(() => undefined);
    let etag: string | undefined;
    try {
      etag = (await sent).ETag;
    } catch (e) {
      // The storage's begin gives its own typed error.
      if (stage === "begin") throw e;
      throw s3Failure(`UploadPart ${partNumber} of ${key}`, e);
    }
    this.#parts.push({ PartNumber: partNumber, ...(etag !== undefined ? { ETag: etag } : {}) });
    // The buffer is free again: the SDK is done with it once the part is stored.
    this.#filled = 0;
  }
}
