/**
 * Where the loggers' lines go: a file descriptor (stderr), written
 * without ever stopping the server. Lines are gathered and written
 * together once per turn of the event loop (a write(2) per request's line
 * cost more than the line), one write in flight at a time so their order
 * is kept, off the event loop (a stderr pipe nobody reads blocks the
 * write, not the server). While a write is stuck, lines queue up to a
 * bound; past it whole lines are dropped, counted, and the count is
 * written once the pipe moves again. At exit what is queued is written
 * synchronously.
 */
import { write, writeSync } from "node:fs";

/** Bytes of lines kept while the descriptor does not take them. */
export const MAX_QUEUED_BYTES = 4 << 20;

export class LineSink {
  readonly #fd: number;
  readonly #droppedLine: (n: number) => string;
  readonly #maxQueued: number;
  #pending: string[] = [];
  #bytes = 0;
  #dropped = 0;
  #scheduled = false;
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
    if (this.#bytes + line.length > this.#maxQueued) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#bytes += line.length;
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** The queued text, with the note of what was dropped first; empties the queue. */
  #take(): Buffer | null {
    if (this.#dropped > 0 && this.#pending.length > 0) {
      this.#pending.unshift(this.#droppedLine(this.#dropped));
      this.#dropped = 0;
    }
    if (this.#pending.length === 0) return null;
    const buf = Buffer.from(this.#pending.join(""));
    this.#pending = [];
    this.#bytes = 0;
    return buf;
  }

  #flush(): void {
    this.#scheduled = false;
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
      if (this.#pending.length > 0) this.#flush();
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
