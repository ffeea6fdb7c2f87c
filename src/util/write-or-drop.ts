import type { Writable } from "node:stream";

/**
 * Writes `chunk`, then waits for 'drain' when `out` is full (backpressure).
 * Gives up quietly once `out` is destroyed or ended (and stops waiting when
 * it closes): the reader on the other side is gone, and the caller learns
 * that from its own stream or process.
 */
export function writeOrDrop(out: Writable, chunk: Buffer | string): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.resolve();
  if (out.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}

/**
 * Resolves once `out` takes writes again (at once when it is not full).
 * Rejects with its 'error', or, when it closes first, with `closed()`:
 * for a writer that must know its bytes did not all go.
 */
export function waitForDrain(out: Writable, closed: () => unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: unknown) => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
      if (e === undefined) resolve();
      else reject(e);
    };
    const onDrain = () => done();
    const onError = (e: unknown) => done(e);
    const onClose = () => done(closed());
    out.on("drain", onDrain);
    out.on("error", onError);
    out.on("close", onClose);
    if (out.destroyed) onClose();
    else if (!out.writableNeedDrain) onDrain();
  });
}
