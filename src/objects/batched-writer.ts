/**
 * Writing an upload's chunks to its temp file with backpressure, in
 * batches: the store's receive loop awaits `add`, and a failed write (a
 * disk full) is kept and thrown to it, never mistaken for the sender's.
 */
import type { FileHandle } from "node:fs/promises";
import { writeAllAt } from "../util/index.js";

/**
 * Bytes gathered per write of an upload (socket chunks are ~64 KiB): up to
 * 1 MiB while few uploads run (a single 512 MiB put measured 392-416 MiB/s
 * with 1 MiB batches, 336-360 with 256 KiB), shrinking to 256 KiB as more
 * run at once so that all of them hold about ALL_BATCHES (16 puts of
 * 256 MiB at once peaked at 151-188 MiB RSS with 1 MiB each, 128-135 with
 * 256 KiB: each upload holds a batch and a write).
 */
const MAX_BATCH = 1024 * 1024;
const MIN_BATCH = 256 * 1024;
const ALL_BATCHES = 4 * 1024 * 1024;

/** Writers not yet flushed, in this process. */
let open = 0;

/**
 * Writes an upload's chunks to its temp file, gathering what arrives while
 * a write is under way into the next one (up to the shared batchLimit): fewer
 * thread-pool round trips, receiving overlaps writing, and what arrives is
 * on disk promptly. At most one write and one batch are held. The writer
 * counts as open, for the shared batch size, until its flush.
 */
export class BatchedFileWriter {
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #inFlight: Promise<void> | null = null;
  #failure: unknown = null;
  #open = true;

  readonly #fh: FileHandle;
  #position: number;

  constructor(fh: FileHandle, position: number) {
    this.#fh = fh;
    this.#position = position;
    open++;
  }

  /** The batch size now: MAX_BATCH shared among the open writers, within bounds. */
  static get batchLimit(): number {
    return Math.min(MAX_BATCH, Math.max(MIN_BATCH, Math.floor(ALL_BATCHES / Math.max(1, open))));
  }

  async add(chunk: Buffer): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    this.#kick();
    // Backpressure: a full batch waits for the write ahead of it.
    while (this.#batchBytes >= BatchedFileWriter.batchLimit && this.#inFlight) {
      await this.#inFlight;
    }
    if (this.#failure !== null) throw this.#failure;
  }

  /** Write out everything gathered and wait for it. */
  async flush(): Promise<void> {
    try {
      while (this.#inFlight) await this.#inFlight;
    } finally {
      if (this.#open) open--;
      this.#open = false;
    }
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
