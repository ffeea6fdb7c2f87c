/**
 * An object's content from an offset: an ordinary Readable for any reader,
 * which an HTTP server can instead have send itself (util/sends-itself.ts)
 * through a few buffers it reuses, each read into again only once the
 * response has handed it to the kernel (its write callback).
 *
 * Why: each 256 KiB read of a plain file stream is a new Buffer. V8 frees
 * Buffers only in collections that their external memory triggers (about
 * every 64 MiB allocated), and each walks the whole heap: serving a
 * 256 MiB object to curl, 11.5 % of annexgate's CPU was the garbage
 * collector (0.9 % in a minimal Node server, whose heap is small), and 16
 * downloads at once held up to 64 MiB of dropped Buffers.
 */
import { type FileHandle, open } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import type { SendsItself } from "../util/index.js";
import { ObjectStoreError, storeFailure } from "./errors.js";

/** Bytes per read. */
const CHUNK = 256 * 1024;
/** Buffers one sending download cycles through: one being read, the rest being written. */
const POOL = 4;

export class ObjectFileStream extends Readable implements SendsItself {
  readonly #path: string;
  #position: number;
  readonly #end: number;
  #opening: Promise<FileHandle> | null = null;
  #sending = false;
  #readStarted = false;

  /** The bytes of `path` from `start` up to `end` (exclusive). */
  constructor(path: string, start: number, end: number) {
    super({ highWaterMark: CHUNK });
    this.#path = path;
    this.#position = start;
    this.#end = end;
  }

  /** Nothing has read, nor started to read, nor is set to read (flowing) this stream. */
  get untouched(): boolean {
    return (
      !this.#sending &&
      !this.#readStarted &&
      this.readableFlowing === null &&
      this.readableLength === 0 &&
      !this.destroyed
    );
  }

  override _read(): void {
    this.#readStarted = true;
    if (this.#sending) return;
    this.#readChunk(null).then(
      (chunk) => this.push(chunk),
      (e: unknown) => this.destroy(e as Error),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const closing = this.#opening?.then((fh) => fh.close());
    this.#opening = null;
    if (closing === undefined) {
      cb(err);
      return;
    }
    closing.then(
      () => cb(err),
      () => cb(err),
    );
  }

  async sendInto(out: Writable, valid: Promise<boolean>): Promise<void> {
    if (!this.untouched) throw new ObjectStoreError("object stream already read");
    this.#sending = true;
    // The caller learns a failure from the rejection: without a listener
    // of its own, the stream's 'error' would end the process.
    this.on("error", () => undefined);
    /** Buffers back from their writes; at most POOL are made, each as large as the rest needs. */
    const free: Buffer[] = [];
    let made = 0;
    /** Wakes the loop below: a buffer came back, `out` drained, or it closed. */
    let wake: (() => void) | null = null;
    const nudge = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    out.on("drain", nudge);
    out.on("close", nudge);
    const gone = () => out.destroyed || out.writableEnded;
    const stopped = () => gone() || this.destroyed;
    try {
      for (;;) {
        while ((out.writableNeedDrain || (free.length === 0 && made === POOL)) && !stopped()) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        if (stopped()) throw new ObjectStoreError("the reader went away");
        const left = this.#end - this.#position;
        if (left <= 0) break;
        let buf = free.pop();
        if (buf === undefined) {
          buf = Buffer.allocUnsafeSlow(Math.min(CHUNK, left));
          made++;
        }
        const chunk = await this.#readChunk(buf);
        if (chunk === null) break;
        if (stopped()) throw new ObjectStoreError("the reader went away");
        const last = this.#position === this.#end;
        const piece = last && !(await valid) ? chunk.subarray(0, chunk.length - 1) : chunk;
        const back = buf;
        out.write(piece, () => {
          free.push(back);
          nudge();
        });
      }
    } catch (e) {
      // A reader that went away ends this stream as a pipe would (a
      // premature close, not a failure of the content).
      if (gone()) this.destroy();
      else this.destroy(e as Error);
      throw e;
    } finally {
      out.off("drain", nudge);
      out.off("close", nudge);
    }
    // Ended as a Readable too, for whoever watches it (finished()).
    this.push(null);
    this.resume();
  }

  /** The next chunk, read into `into` when given; null at the end. */
  async #readChunk(into: Buffer | null): Promise<Buffer | null> {
    const left = this.#end - this.#position;
    if (left <= 0) return null;
    const fh = await this.#open();
    const want = Math.min(CHUNK, left);
    const buf = into ?? Buffer.allocUnsafeSlow(want);
    const { bytesRead } = await fh.read(buf, 0, want, this.#position).catch((e: unknown) => {
      throw storeFailure("reading the content", e, this.#path);
    });
    if (bytesRead === 0) {
      throw new ObjectStoreError("the object is shorter than its size");
    }
    this.#position += bytesRead;
    return buf.subarray(0, bytesRead);
  }

  #open(): Promise<FileHandle> {
    // Never reopened once destroyed: nothing would close it.
    if (this.destroyed) return Promise.reject(new ObjectStoreError("the object stream was ended"));
    this.#opening ??= open(this.#path, "r").catch((e: unknown) => {
      throw storeFailure("reading the content", e, this.#path);
    });
    return this.#opening;
  }
}
