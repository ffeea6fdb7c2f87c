import { Transform, type TransformCallback } from "node:stream";
import { LastChunk } from "../../util/index.js";

/**
 * Holds back the last chunk of a download until the sender says whether the
 * data was valid; when it was not, but the promised length was reached, the
 * response is cut one byte short so the client knows (as git-annex does).
 */
export class ValidityGate extends Transform {
  readonly #last = new LastChunk();
  #sent = 0;
  readonly #length: number;
  readonly #valid: Promise<boolean>;
  constructor(length: number, valid: Promise<boolean>) {
    super();
    this.#length = length;
    this.#valid = valid;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const before = this.#last.hold(chunk);
    if (before) {
      this.#sent += before.length;
      this.push(before);
    }
    cb();
  }
  override _flush(cb: TransformCallback): void {
    this.#valid.then(
      (ok) => {
        let last = this.#last.take();
        if (last && !ok && this.#sent + last.length === this.#length) {
          last = last.subarray(0, last.length - 1);
        }
        if (last && last.length > 0) this.push(last);
        cb();
      },
      (err: unknown) => cb(err as Error),
    );
  }
}
