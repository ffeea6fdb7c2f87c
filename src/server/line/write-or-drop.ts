import type { Writable } from "node:stream";

/**
 * Write a chunk, waiting for 'drain' (backpressure); gives up quietly once
 * `out` is destroyed or ended, since the peer on the other side is gone and
 * the caller finds out from its own stream.
 */
export function writeOrDrop(out: Writable, chunk: Buffer): Promise<void> {
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
