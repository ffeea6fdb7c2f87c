/**
 * Where the loggers' lines go: a file descriptor (stderr), written
 * without ever stopping the server. Each line is copied at once into a
 * 64 KiB buffer (so the string dies young), and the buffers are written
 * every FLUSH_MS, or as soon as one is full: a write through the thread
 * pool costs about 20 µs of CPU, far more than a line, so a busy server
 * must not make one per request. One write is in flight at a time, so
 * their order is kept, off the event loop (a stderr pipe nobody reads
 * blocks the write, not the server). While a write is stuck, lines queue
 * up to a bound; past it whole lines are dropped, counted, and the count
 * is written once the pipe moves again. At exit what is queued is written
 * synchronously.
 */
import { write, writeSync } from "node:fs";

/** Bytes of lines kept while the descriptor does not take them. */
export const MAX_QUEUED_BYTES = 4 << 20;
/** Lines are gathered into buffers of this size. */
const CHUNK_BYTES = 64 << 10;
/** How long a line may wait for others to be written with (ms). */
const FLUSH_MS = 5;

export class LineSink {
  readonly #fd: number;
  readonly #droppedLine: (n: number) => string;
  readonly #maxQueued: number;
  /** Filled buffers waiting to be written, in order. */
  #full: Buffer[] = [];
  /** The buffer being filled, and how much of it is. */
  #current: Buffer | null = null;
  #used = 0;
  #bytes = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | null = null;
  #writing = false;
  #closed = false;

  /**
   * `droppedLine` is the line that says how many were dropped, in the
   * log's own format.
   */
  constructor(fd: number, droppedLine: (n: number) => string, maxQueued = MAX_QUEUED_BYTES) {
    this.#fd = fd;
    this.#droppedLine = droppedLine;
    this.#maxQueued = maxQueued;
    process.once("exit", () => this.flushSync());
  }

  /** Lines dropped so far because the descriptor did not take them. */
  get dropped(): number {
    return this.#dropped;
  }

  write(line: string): void {
    const len = Buffer.byteLength(line);
    if (this.#bytes + len > this.#maxQueued) {
      this.#dropped++;
      return;
    }
    this.#bytes += len;
    if (len > CHUNK_BYTES) {
      this.#seal();
      this.#full.push(Buffer.from(line));
    } else {
      if (this.#current === null || this.#used + len > CHUNK_BYTES) {
        this.#seal();
        this.#current = Buffer.allocUnsafe(CHUNK_BYTES);
      }
      this.#used += this.#current.write(line, this.#used);
    }
    if (!this.#writing) this.#schedule();
  }

  /** A full buffer is written now, lines otherwise within FLUSH_MS. */
  #schedule(): void {
    if (this.#full.length > 0) {
      this.#flush();
    } else if (this.#bytes > 0 && this.#timer === null) {
      this.#timer = setTimeout(() => this.#flush(), FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** The buffer being filled joins the full ones. */
  #seal(): void {
    if (this.#current !== null && this.#used > 0) {
      this.#full.push(this.#current.subarray(0, this.#used));
    }
    this.#current = null;
    this.#used = 0;
  }

  /** The queued bytes, with the note of what was dropped first; empties the queue. */
  #take(): Buffer | null {
    if (this.#current !== null && this.#used > 0) {
      // Copied out, and the buffer kept for the next lines: a quiet
      // server's flush holds a line or two, not a buffer's worth.
      this.#full.push(Buffer.from(this.#current.subarray(0, this.#used)));
      this.#used = 0;
    }
    if (this.#full.length === 0) return null;
    if (this.#dropped > 0) {
      this.#full.unshift(Buffer.from(this.#droppedLine(this.#dropped)));
      this.#dropped = 0;
    }
    const buf = this.#full.length === 1 ? (this.#full[0] as Buffer) : Buffer.concat(this.#full);
    this.#full = [];
    this.#bytes = 0;
    return buf;
  }

  #flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#writing || this.#closed) return;
    const buf = this.#take();
    if (buf === null) return;
    this.#writing = true;
    this.#send(buf, 0);
  }

  #send(buf: Buffer, off: number): void {
    write(this.#fd, buf, off, buf.length - off, null, (err, n) => {
      if (err && (err as NodeJS.ErrnoException).code === "EAGAIN") {
        // A non-blocking pipe that is full: try again shortly.
        setTimeout(() => this.#send(buf, off), 10).unref();
        return;
      }
      if (!err && off + n < buf.length) {
        this.#send(buf, off + n);
        return;
      }
      // Written, or the descriptor is gone (nothing more can be done).
      this.#writing = false;
      this.#schedule();
    });
  }

  /** Writes what is queued now, synchronously (at exit; a write in flight is not waited for). */
  flushSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    const buf = this.#take();
    if (buf === null) return;
    let off = 0;
    for (let tries = 0; off < buf.length && tries < 1000; tries++) {
      try {
        off += writeSync(this.#fd, buf, off);
      } catch {
        return;
      }
    }
  }
}
