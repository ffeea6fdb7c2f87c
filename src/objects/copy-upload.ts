/**
 * The bytes of one upload, from the sender into the temp file: at most the
 * promised length, through the verifier, with backpressure from the disk.
 */
import type { Readable } from "node:stream";
import { type CopyOutcome, copyAtMost } from "../util/index.js";
import type { BatchedFileWriter } from "./batched-writer.js";

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
): Promise<CopyOutcome> {
  // Awaiting the writer (when its batch is full) is what gives the upload
  // backpressure; a failed write ends the copy and is thrown by the flush.
  const t = await copyAtMost(data, length, (piece) => writer.add(piece), verifier, signal);
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
