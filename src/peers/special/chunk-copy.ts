/**
 * The bytes of one chunked store, from the sender into consecutive chunk
 * objects of a special remote's storage: each chunk but the last is
 * published as soon as it is full (as git-annex stores chunk by chunk);
 * the last is left staged, out of sight, for the caller to publish once
 * the whole content has been checked. So a complete set of chunks exists
 * only for content that matched its key, even if the gateway dies
 * between two steps.
 */
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { copyAtMost, waitForDrain } from "../../util/index.js";
import type { StagedObject } from "./storage.js";

class SinkClosedError extends Error {
  constructor() {
    super("the staged chunk closed before it was written");
  }
}

/** How the chunks of one store are laid out and written. */
export interface ChunkPlan {
  /** The first chunk this store writes (from 1; later than 1 when resuming). */
  readonly first: number;
  /** The number of chunks of the whole content. */
  readonly count: number;
  /** The byte length of chunk `i`. */
  chunkLength(i: number): number;
  /** Begin writing chunk `i`, out of sight until published. */
  stage(i: number): Promise<StagedObject>;
}

export interface ChunkCopyOutcome {
  /** Bytes taken from the sender. */
  readonly received: number;
  /** The sender sent more than it promised. */
  readonly tooLong: boolean;
  /** The sender failed or went away, or the copy was aborted. */
  readonly aborted: boolean;
  /**
   * The last chunk, fully written and ended, not yet published; null
   * unless every promised byte arrived (and no more).
   */
  readonly last: StagedObject | null;
}

/**
 * Copy `length` bytes of `data` into the chunks of `plan`, feeding
 * `verifier`. A failure of the sender is a result; a failure of the
 * storage is thrown. Either way, a chunk left half-written is discarded;
 * chunks already published stay (the caller decides what to remove).
 */
export async function copyIntoChunks(
  data: Readable,
  length: number,
  plan: ChunkPlan,
  verifier: { update(b: Buffer): void } | null,
  signal?: AbortSignal,
): Promise<ChunkCopyOutcome> {
  let i = plan.first;
  let current: StagedObject | null = null;
  let written = 0;
  let storageFailure: unknown = null;
  // The storage failing stops the copy at once, even while the sender stalls.
  const onSinkError = (e: unknown) => {
    storageFailure ??= e;
    data.destroy();
  };
  const open = async (): Promise<StagedObject> => {
    const s = await plan.stage(i);
    s.sink.on("error", onSinkError);
    current = s;
    written = 0;
    return s;
  };
  const write = async (piece: Buffer) => {
    try {
      let rest = piece;
      while (rest.length > 0) {
        const s = current ?? (await open());
        const part = rest.subarray(0, plan.chunkLength(i) - written);
        rest = rest.subarray(part.length);
        if (!s.sink.write(part)) await waitForDrain(s.sink, () => new SinkClosedError());
        written += part.length;
        if (written === plan.chunkLength(i) && i < plan.count) {
          await endSink(s.sink, onSinkError);
          current = null;
          await s.publish();
          i++;
        }
      }
    } catch (e) {
      storageFailure ??= e;
      throw e;
    }
  };
  const t = await copyAtMost(data, length, write, verifier, signal);
  try {
    if (storageFailure !== null) throw storageFailure;
    const complete = !t.aborted && !t.tooLong && t.received === length;
    if (!complete) {
      await discard(current);
      return { ...t, last: null };
    }
    // Empty content writes no byte: its one chunk is opened here.
    const last: StagedObject = current ?? (await open());
    await endSink(last.sink, onSinkError);
    return { ...t, last };
  } catch (e) {
    await discard(current);
    data.destroy();
    throw e;
  }
}

async function endSink(sink: Writable, onError: (e: unknown) => void): Promise<void> {
  sink.end();
  try {
    await finished(sink);
  } finally {
    sink.off("error", onError);
  }
}

async function discard(staged: StagedObject | null): Promise<void> {
  await staged?.discard().catch(() => undefined);
}
