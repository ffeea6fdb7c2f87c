/**
 * Small stream pieces the client Peers share: sending exactly the promised
 * number of bytes of a store, and counting what a retrieve delivers.
 * Everything keeps backpressure (plain Transforms, no buffering beyond one
 * chunk).
 */
import { Transform, type TransformCallback } from "node:stream";
import { LengthBudget, type LengthOutcome, type StallTimer } from "../util/index.js";

/**
 * Passes on at most `length` bytes after dropping the first `skip`, and
 * records whether the source had exactly `skip + length` bytes. Excess
 * bytes are read and dropped, so a sender can always finish its frame of
 * `length` bytes and then say whether the data was valid.
 *
 * @example
 * const gate = new ExactLength(3, 0);
 * await pipeline(Readable.from([Buffer.from("abcd")]), gate, sink); // gate.outcome === "long"
 */
export class ExactLength extends Transform {
  #skipped = 0;
  readonly #budget: LengthBudget;
  readonly #skip: number;

  constructor(length: number, skip = 0) {
    super({ highWaterMark: 64 * 1024 });
    this.#skip = skip;
    this.#budget = new LengthBudget(length);
  }

  /** Settled once the stream has ended. */
  get outcome(): LengthOutcome {
    return this.#budget.outcome;
  }

  /** Bytes passed on so far. */
  get bytesPassed(): number {
    return this.#budget.passed;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#budget.long) {
      cb();
      return;
    }
    let piece = chunk;
    if (this.#skipped < this.#skip) {
      const drop = Math.min(piece.length, this.#skip - this.#skipped);
      this.#skipped += drop;
      piece = piece.subarray(drop);
    }
    piece = this.#budget.take(piece);
    cb(null, piece.length > 0 ? piece : undefined);
  }
}

/**
 * Counts the bytes that pass; `count` is final once the stream has ended.
 * With a StallTimer, the source is waited on (and may stall) only while
 * the reader has room for more: a reader that stopped reading is not the
 * source's fault.
 */
export class ByteCounter extends Transform {
  count = 0;
  readonly #stall: StallTimer | undefined;
  #waiting: (() => void) | undefined;

  constructor(stall?: StallTimer) {
    super({ highWaterMark: 64 * 1024 });
    this.#stall = stall;
  }

  override _read(size: number): void {
    // The reader wants more: from now on the source owes it.
    if (this.#stall !== undefined && this.#waiting === undefined) {
      this.#waiting = this.#stall.begin();
    }
    super._read(size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    this.#stall?.progress();
    cb(null, chunk);
    if (this.readableLength >= this.readableHighWaterMark) {
      // Full: the reader is behind, until it asks again.
      this.#waiting?.();
      this.#waiting = undefined;
    }
  }

  override _flush(cb: TransformCallback): void {
    this.#stall?.stop();
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#stall?.stop();
    cb(err);
  }
}

/**
 * Resolves once `stream` has ended (true) or closed without ending, errored
 * or been destroyed (false). Never rejects.
 */
export function endedCleanly(
  stream: NodeJS.ReadableStream & NodeJS.EventEmitter,
): Promise<boolean> {
  return new Promise((resolve) => {
    let ended = false;
    stream.once("end", () => {
      ended = true;
      resolve(true);
    });
    stream.once("error", () => resolve(false));
    stream.once("close", () => resolve(ended));
  });
}
