/**
 * The bytes of one store, from the sender into a special remote's staged
 * object: at most the promised length, through the verifier, with
 * backpressure from the storage. The special-remote twin of the object
 * store's copy into its temp file, over a Writable instead of a file.
 */
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { type CopyOutcome, copyAtMost, waitForDrain } from "../../util/index.js";

class SinkClosedError extends Error {
  constructor() {
    super("the staged object closed before the upload ended");
  }
}

/**
 * Copy up to `length` of the sender's bytes into `sink`, feeding
 * `verifier`, then end `sink` so that everything that arrived is written
 * (a resumed store starts after it). A failure of the sender is a result
 * (`aborted`); a failure of the sink (the storage) is thrown.
 */
export async function copyIntoStaged(
  sink: Writable,
  data: Readable,
  length: number,
  verifier: { update(b: Buffer): void } | null,
  signal?: AbortSignal,
): Promise<CopyOutcome> {
  let sinkFailure: unknown = null;
  // The storage failing stops the copy at once, even while the sender stalls.
  const onSinkError = (e: unknown) => {
    sinkFailure ??= e;
    data.destroy();
  };
  sink.on("error", onSinkError);
  const write = async (piece: Buffer) => {
    if (!sink.write(piece)) await waitForDrain(sink, () => new SinkClosedError());
  };
  const t = await copyAtMost(data, length, write, verifier, signal);
  try {
    if (sinkFailure === null) {
      sink.end();
      await finished(sink);
    }
  } catch (e) {
    sinkFailure ??= e;
  } finally {
    sink.off("error", onSinkError);
  }
  if (sinkFailure !== null) {
    data.destroy();
    throw sinkFailure;
  }
  if (t.tooLong) data.destroy();
  return t;
}
