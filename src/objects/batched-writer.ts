/**
 * Writing an upload's chunks to its temp file with backpressure, in
 * batches: the store's receive loop awaits `add`, and a failed write (a
 * disk full) is kept and thrown to it, never mistaken for the sender's.
 */
import type { FileHandle } from "node:fs/promises";
import { writeAllAt } from "../util/index.js";

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
    this.#inFlight = writeAllAt(this.#fh, buffers, at).then(
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
