/**
 * The bytes of one store, from the sender into a special remote's staged
 * object: at most the promised length, through the verifier, with
 * backpressure from the storage. The special-remote twin of the object
 * store's copy into its temp file, over a Writable instead of a file.
 */
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { LengthBudget, waitForDrain } from "../../util/index.js";

/** What came of copying the sender's bytes into the staged object. */
export interface StagedCopy {
  received: number;
  /** More bytes came than were promised (the rest were not read). */
  tooLong: boolean;
  /** The sender failed, went away, or the request was aborted. */
  aborted: boolean;
}

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
): Promise<StagedCopy> {
  const t: StagedCopy = { received: 0, tooLong: false, aborted: false };
  const budget = new LengthBudget(length);
  let sinkFailure: unknown = null;
  // The storage failing stops the copy at once, even while the sender stalls.
  const onSinkError = (e: unknown) => {
    sinkFailure ??= e;
    data.destroy();
  };
  // A sender that stalls must not hold the key past an abort.
  const onAbort = () => data.destroy(new Error("store aborted", { cause: signal?.reason }));
  sink.on("error", onSinkError);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    for await (const chunk of data as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw signal.reason;
      const piece = budget.take(chunk);
      t.tooLong = budget.long;
      if (piece.length > 0) {
        verifier?.update(piece);
        if (!sink.write(piece)) await waitForDrain(sink, () => new SinkClosedError());
        t.received += piece.length;
      }
      if (t.tooLong) break;
    }
  } catch {
    t.aborted = true;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
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
