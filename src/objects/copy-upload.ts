/**
 * The bytes of one upload, from the sender into the temp file: at most the
 * promised length, through the verifier, with backpressure from the disk.
 */
import type { Readable } from "node:stream";
import { LengthBudget } from "../util/index.js";
import type { BatchedFileWriter } from "./batched-writer.js";

/** What came of copying the sender's bytes into the temp file. */
export interface Transfer {
  received: number;
  tooLong: boolean;
  aborted: boolean;
}

/**
 * Copy the sender's bytes into the temp file, feeding the verifier, up to
 * `length`. The sender going away or stalling past an abort is a result
 * ("aborted"); a write that fails is thrown.
 */
export async function copyUpload(
  writer: BatchedFileWriter,
  data: Readable,
  length: number,
  verifier: { update(b: Buffer): void } | null,
  signal: AbortSignal | undefined,
): Promise<Transfer> {
  const t: Transfer = { received: 0, tooLong: false, aborted: false };
  const budget = new LengthBudget(length);
  // A sender that stalls must not hold the key past an abort: destroying
  // the source ends the loop below even when no chunk is coming.
  const onAbort = () => data.destroy(new Error("receive aborted", { cause: signal?.reason }));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    for await (const chunk of data as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw signal.reason;
      const piece = budget.take(chunk);
      t.tooLong = budget.long;
      if (piece.length > 0) {
        verifier?.update(piece);
        // Awaiting the writer (when its batch is full) is what gives the
        // upload backpressure.
        await writer.add(piece);
        t.received += piece.length;
      }
      if (t.tooLong) break;
    }
  } catch {
    // The sender's failure, unless a write failed (checked below).
    t.aborted = true;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  try {
    // Whatever arrived goes to disk, so that a resume starts after it.
    await writer.flush();
  } catch (e) {
    // The disk's failure, not the sender's: no more is read (a fan-out
    // sees its consumer stop), and the error is thrown.
    data.destroy();
    throw e;
  }
  if (t.tooLong) data.destroy();
  return t;
}
