/**
 * The body of a p2phttp put: exactly the promised bytes, with backpressure,
 * or a body that reads as invalid to the server when the data is not right;
 * and the error a failed put ends in.
 */
import type { ClientRequest } from "node:http";
import type { Readable } from "node:stream";
import { formatKey, type Key } from "../../keys/index.js";
import type { ApiVersion } from "../../protocol/index.js";
import { LastChunk, LengthBudget, type StallTimer, writeOrDrop } from "../../util/index.js";
import { PeerError, PeerUnreachableError, type StoreResult } from "../peer.js";

export interface SentBody {
  /** False when the body was not ended (the request must not be reused). */
  readonly complete: boolean;
  /** Set when `data` failed; the body was then ended short. */
  readonly sourceError?: unknown;
}

/**
 * Writes a put body of `length` bytes from `data`, with backpressure, and
 * ends it. The last chunk is held back until `data` ends, so that the body
 * can always be ended short of `length` when the data is not right: when it
 * runs long (cut one byte short, as git-annex's clientPut does) and when it
 * fails mid-way (ended one byte short of what came, not broken off: stock
 * git-annex keeps what arrived in a short body for a later resume, but
 * nothing of a broken connection).
 * Excess data, and data after the server has answered, is read and dropped.
 * While a write waits for the server to take it, the server owes progress
 * (`stall`); while `data` is slow, it does not.
 * When `signal` aborts (the client that asked for this store went away),
 * `data` is given up the same way as a failing source: the body ends short,
 * not broken off. Stock git-annex p2phttp answers such a body and keeps
 * what came; a connection broken mid-put leaves its request-serving thread
 * waiting, and its later requests hang behind it.
 */
export async function sendPutBody(
  data: Readable,
  creq: ClientRequest,
  length: number,
  answered: () => boolean,
  stall: StallTimer,
  signal?: AbortSignal,
): Promise<SentBody> {
  const budget = new LengthBudget(length);
  const last = new LastChunk();
  let sourceError: unknown;
  const writable = () => !creq.destroyed && !creq.writableEnded && !answered();
  const write = async (chunk: Buffer): Promise<void> => {
    if (!writable()) return;
    const waited = stall.begin();
    try {
      await writeOrDrop(creq, chunk);
    } finally {
      waited();
    }
  };
  const giveUp = () => data.destroy(signal?.reason ?? new PeerError("put given up", { length }));
  if (signal?.aborted) giveUp();
  else signal?.addEventListener("abort", giveUp, { once: true });
  try {
    for await (const chunk of data as AsyncIterable<Buffer>) {
      if (budget.long || !writable()) continue;
      const piece = budget.take(chunk);
      if (piece.length === 0) continue;
      const before = last.hold(piece);
      if (before) await write(before);
    }
  } catch (e) {
    sourceError = e;
  } finally {
    signal?.removeEventListener("abort", giveUp);
  }
  if (!writable()) {
    // Answered (or broken) before the body was all sent: the connection
    // cannot carry another request; the caller destroys it.
    return { complete: false, ...(sourceError === undefined ? {} : { sourceError }) };
  }
  // Whatever is sent must then be short of `length` to read as invalid; an
  // empty body cannot be, so that request is broken off instead.
  const held = last.take();
  if (sourceError !== undefined || budget.long) {
    if (length === 0) {
      creq.destroy(new PeerError("put data invalid", { length }));
      return { complete: false, ...(sourceError === undefined ? {} : { sourceError }) };
    }
    // All but the last byte of what came (never more than `length`).
    if (held) await write(held.subarray(0, -1));
  } else if (held) {
    await write(held);
  }
  creq.end();
  return { complete: true, ...(sourceError === undefined ? {} : { sourceError }) };
}

/**
 * A put that failed. When the server is gone (`cause` a PeerUnreachableError)
 * it says so; a failure of our own data source is a plain PeerError.
 */
export function putFailed(
  key: Key,
  v: ApiVersion,
  cause: unknown,
  answer?: StoreResult,
): PeerError {
  const As = cause instanceof PeerUnreachableError ? PeerUnreachableError : PeerError;
  return new As(
    `p2phttp put of ${formatKey(key)} failed`,
    { operation: "put", version: v, ...(answer ? { answer } : {}) },
    cause,
  );
}
