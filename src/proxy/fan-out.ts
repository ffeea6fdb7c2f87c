/**
 * One incoming upload, copied to several stores at once. The slowest live
 * branch sets the pace (backpressure reaches the client), a branch that
 * fails is cut off without holding up the others, and each branch can
 * start later in the stream (a node that already has the first bytes from
 * an interrupted upload).
 */
import { finished, PassThrough, type Readable } from "node:stream";

/** Each branch buffers at most this much before it slows the source. */
const BRANCH_HIGH_WATER_MARK = 1024 * 1024;

export class FanOut {
  /** What each branch reads: the source from its `skip` on. */
  readonly outputs: readonly PassThrough[];
  readonly #live: boolean[];
  readonly #waiting = new Set<number>();
  #position = 0;
  #ended = false;

  readonly #source: Readable;
  readonly #skips: readonly number[];
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;

  /**
   * @param skips for each branch, how many bytes at the start of `source`
   *   it leaves out.
   * @param onChunk sees every chunk of the source once, in order (to hash
   *   the upload once for all branches).
   */
  constructor(source: Readable, skips: readonly number[], onChunk?: (chunk: Buffer) => void) {
    this.#source = source;
    this.#skips = skips;
    this.#onChunk = onChunk;
    this.outputs = skips.map(() => new PassThrough({ highWaterMark: BRANCH_HIGH_WATER_MARK }));
    this.#live = skips.map(() => true);
    this.outputs.forEach((out, i) => {
      out.on("drain", () => this.#drained(i));
      // A consumer that destroys its stream has stopped reading.
      out.on("close", () => this.cut(i));
      out.on("error", () => this.cut(i));
    });
    source.on("data", (chunk: Buffer) => this.#onData(chunk));
    // The source may have ended or failed before this fan-out was made (an
    // upload whose sender said INVALID while the nodes were being asked
    // for their offsets): finished() reports that too, where listeners
    // attached now would wait forever for events already gone.
    finished(source, { writable: false }, (err) => {
      this.#ended = true;
      this.outputs.forEach((out, i) => {
        if (!this.#live[i]) return;
        if (err) out.destroy(err);
        else out.end();
      });
    });
    if (skips.length === 0) source.resume();
  }

  /** Stop feeding branch `i` (its store failed or finished early). */
  cut(i: number, err?: Error): void {
    if (!this.#live[i]) return;
    this.#live[i] = false;
    const out = this.outputs[i];
    if (out && !out.destroyed) out.destroy(err);
    this.#drained(i);
  }

  #onData(chunk: Buffer): void {
    this.#onChunk?.(chunk);
    const start = this.#position;
    this.#position += chunk.length;
    this.#skips.forEach((skip, i) => {
      if (!this.#live[i] || this.#position <= skip) return;
      const piece = skip > start ? chunk.subarray(skip - start) : chunk;
      const out = this.outputs[i] as PassThrough;
      if (!out.write(piece)) this.#waiting.add(i);
    });
    // Once no branch is left, the rest of the upload is read and dropped so
    // the sender can finish and hear the answer.
    if (this.#waiting.size > 0) this.#source.pause();
  }

  #drained(i: number): void {
    this.#waiting.delete(i);
    if (this.#waiting.size === 0 && !this.#ended && this.#source.isPaused()) this.#source.resume();
  }
}
