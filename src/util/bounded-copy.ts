/**
 * The copy every receiver of a body makes (an upload into a temp file, a
 * store into a special remote's staged object): at most the promised
 * length, each piece through a verifier, each write awaited so that the
 * destination paces the sender.
 */
import type { Readable } from "node:stream";
import { LengthBudget } from "./length-budget.js";

/** What came of a {@link copyAtMost}. */
export interface CopyOutcome {
  /** Bytes written to the destination. */
  received: number;
  /** More bytes came than were promised (the rest were not read). */
  tooLong: boolean;
  /** The sender failed, went away, stalled past an abort, or a write failed. */
  aborted: boolean;
}

/**
 * Copies up to `length` bytes of `data` through `write`, feeding
 * `verifier` first. Nothing is thrown: a failure of the sender, an abort
 * of `signal` (which ends even a sender that stalls) and a failure of
 * `write` all end the copy as `aborted`; the caller, which owns the
 * destination, asks it whether a write failed.
 *
 * @example
 * const t = await copyAtMost(req, 1000, (piece) => writer.add(piece), hash, signal);
 */
export async function copyAtMost(
  data: Readable,
  length: number,
  write: (piece: Buffer) => Promise<void>,
  verifier: { update(b: Buffer): void } | null,
  signal?: AbortSignal,
): Promise<CopyOutcome> {
  const t: CopyOutcome = { received: 0, tooLong: false, aborted: false };
  const budget = new LengthBudget(length);
  // A sender that stalls must not hold the receiver past an abort:
  // destroying the source ends the loop below even when no chunk is coming.
  const onAbort = () => data.destroy(new Error("copy aborted", { cause: signal?.reason }));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    for await (const chunk of data as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw signal.reason;
      const piece = budget.take(chunk);
      t.tooLong = budget.long;
      if (piece.length > 0) {
        verifier?.update(piece);
        await write(piece);
        t.received += piece.length;
      }
      if (t.tooLong) break;
    }
  } catch {
    t.aborted = true;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return t;
}
