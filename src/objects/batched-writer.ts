/**
 * Writing an upload's chunks to its temp file with backpressure, in
 * batches: the store's receive loop awaits `add`, and a failed write (a
 * disk full) is kept and thrown to it, never mistaken for the sender's.
 */
import type { FileHandle } from "node:fs/promises";

/** Bytes gathered per write of an upload (socket chunks are ~64 KiB). */
const WRITE_BATCH = 1024 * 1024;

/**
 * Writes an upload's chunks to its temp file, gathering what arrives while
 * a write is under way into the next one (up to about 1 MiB): fewer
 * thread-pool round trips, receiving overlaps writing, and what arrives is
 * on disk promptly. At most one write and one batch are held.
 */
export class BatchedFileWriter {
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #inFlight: Promise<void> | null = null;
  #failure: unknown = null;

  readonly #fh: FileHandle;
  #position: number;

  constructor(fh: FileHandle, position: number) {
    this.#fh = fh;
    this.#position = position;
  }

  async add(chunk: Buffer): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    this.#kick();
    // Backpressure: a full batch waits for the write ahead of it.
    while (this.#batchBytes >= WRITE_BATCH && this.#inFlight) await this.#inFlight;
    if (this.#failure !== null) throw this.#failure;
  }

  /** Write out everything gathered and wait for it. */
  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
    if (this.#failure !== null) throw this.#failure;
  }

  /** Start writing the gathered batch unless a write is under way. */
  #kick(): void {
    if (this.#inFlight || this.#batchBytes === 0 || this.#failure !== null) return;
    const buffers = this.#batch;
    const at = this.#position;
    this.#position += this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#inFlight = writeAll(this.#fh, buffers, at).then(
      () => {
        this.#inFlight = null;
        this.#kick();
      },
      (err: unknown) => {
        this.#failure = err;
        this.#inFlight = null;
      },
    );
  }
}

async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let bufs = buffers;
  let at = position;
  while (bufs.length > 0) {
    const { bytesWritten } = await fh.writev(bufs, at);
    at += bytesWritten;
    // A short write (rare on regular files): continue after what was written.
    let skip = bytesWritten;
    while (bufs.length > 0 && skip >= (bufs[0] as Buffer).length) {
      skip -= (bufs[0] as Buffer).length;
      bufs = bufs.slice(1);
    }
    if (skip > 0 && bufs.length > 0) bufs = [(bufs[0] as Buffer).subarray(skip), ...bufs.slice(1)];
  }
}
