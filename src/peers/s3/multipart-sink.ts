/**
 * The Writable a staged S3 object is written through: its bytes become
 * the parts of one multipart upload, begun only once a first part is
 * full. An object smaller than one part never begins one: its bytes stay
 * in `wholeObject`, for a single PutObject when it is published (one
 * request instead of four; git-annex stores such an object with one
 * PutObject too).
 *
 * At most two parts are held in memory: one uploading while the next
 * fills. When that one is full and the upload before it still runs, the
 * writer waits (backpressure), so a slow S3 server slows the sender
 * instead of filling the gateway's memory. With one part only, the
 * sender waited for every part's upload and S3 for every part's bytes:
 * a 32 MiB put to s3rver ran at 0.64x stock's, which stages whole files
 * and sends them with one PutObject.
 *
 * Part buffers are allocated at the part size without being filled
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
  /** The part being filled: its buffer, bytes so far, and number. */
  #buf: Buffer | null = null;
  #filled = 0;
  #partNumber = 1;
  /** The buffer of the last part uploaded, free to fill again. */
  #spare: Buffer | null = null;
  /** The part upload running, if any; awaited before the next one starts. */
  #uploading: Promise<void> | null = null;
  #inFlight: Promise<void> = Promise.resolve();
  #uploadId: string | undefined;
  #whole: Buffer | null = null;

  constructor(target: MultipartTarget, partSize: number, signal?: AbortSignal) {
    // The sender waits only while both parts are taken; a little slack keeps socket reads flowing.
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
      const size = this.#partSize(this.#partNumber);
      if (this.#buf === null || this.#buf.length !== size) {
        this.#buf = this.#spare?.length === size ? this.#spare : Buffer.allocUnsafe(size);
        this.#spare = null;
      }
      const n = rest.copy(this.#buf, this.#filled);
      this.#filled += n;
      rest = rest.subarray(n);
      if (this.#filled === size) {
        await this.#previousUpload();
        this.#startUpload();
      }
    }
  }

  /** Waits for the part upload running, if any; throws its failure. */
  async #previousUpload(): Promise<void> {
    const running = this.#uploading;
    this.#uploading = null;
    await running;
  }

  override _final(callback: (e?: Error | null) => void): void {
    const finish = async (): Promise<void> => {
      await this.#previousUpload();
      if (this.#partNumber === 1) {
        // Smaller than a part (an empty object too): kept whole.
        this.#whole = (this.#buf ?? Buffer.alloc(0)).subarray(0, this.#filled);
      } else if (this.#filled > 0) {
        // The last part may be short.
        this.#startUpload();
        await this.#previousUpload();
      }
      this.#buf = null;
      this.#spare = null;
    };
    finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (e?: Error | null) => void): void {
    // The whole object stays: a finished sink is destroyed (autoDestroy)
    // before it is published.
    this.#buf = null;
    this.#spare = null;
    callback(error);
  }

  /** Starts uploading the part filled so far; its buffer is free again once it is stored. */
  #startUpload(): void {
    const buf = this.#buf ?? Buffer.alloc(0);
    const body = buf.subarray(0, this.#filled);
    const partNumber = this.#partNumber++;
    this.#buf = null;
    this.#filled = 0;
    const upload = this.#upload(partNumber, body).then(() => {
      if (!this.destroyed) this.#spare = buf;
    });
    // Awaited by the next part or by _final; until then a failure waits there.
    upload.catch(() => undefined);
    this.#uploading = upload;
    this.#inFlight = upload;
  }

  async #upload(partNumber: number, body: Buffer): Promise<void> {
    // A sink given up on (discarded) uploads nothing more: what it began
    // is aborted once `settled` resolves.
    if (this.destroyed) throw new PeerRefusedError("S3 staged object was discarded");
    const { client, bucket, key } = this.#target;
    if (this.#uploadId === undefined) {
      // The storage's begin gives its own typed error.
      this.#uploadId = await this.#target.begin();
    }
    let etag: string | undefined;
    try {
      const sent = await client.send(
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
      etag = sent.ETag;
    } catch (e) {
      throw s3Failure(`UploadPart ${partNumber} of ${key}`, e);
    }
    this.#parts.push({ PartNumber: partNumber, ...(etag !== undefined ? { ETag: etag } : {}) });
  }
}
