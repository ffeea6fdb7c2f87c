/**
 * Reading a key's content back from its chunks, from any offset: one
 * stream made of the chunks in turn, each read from the storage only when
 * the one before it has been sent, with backpressure throughout.
 */
import type { Readable, Writable } from "node:stream";
import { chunkCount, chunkKey, formatKey, type Key } from "../../keys/index.js";
import { waitForDrain } from "../../util/index.js";
import type { RetrieveResult } from "../peer.js";
import { ByteCounter, endedCleanly } from "../streams.js";
import type { ChunkListing } from "./chunk-log.js";
import type { SpecialStorage, StoredObject } from "./storage.js";

class MissingChunkError extends Error {
  constructor(n: number) {
    super(`chunk ${n} is missing or has the wrong length`);
  }
}

class ReaderGoneError extends Error {
  constructor() {
    super("the reader of the chunks went away");
  }
}

/**
 * Every byte of `from` into `to`, with backpressure, leaving `to` open
 * (no listener stays on `to`: one stream takes many chunks in turn).
 */
async function sendAll(from: Readable, to: Writable): Promise<void> {
  for await (const b of from as AsyncIterable<Buffer>) {
    if (to.destroyed) throw new ReaderGoneError();
    if (!to.write(b)) await waitForDrain(to, () => new ReaderGoneError());
  }
}

/** The byte length of chunk `i` (from 1) of `total` bytes in chunks of `chunkSize`. */
export function chunkLength(total: number, chunkSize: number, i: number): number {
  return Math.max(0, Math.min(chunkSize, total - (i - 1) * chunkSize));
}

/**
 * The content of `key` from `offset`, read from the chunk list `list`;
 * null when that list's chunk holding `offset` is not there, or the list
 * cannot be the key's (a count that does not fit the key's size).
 */
export async function retrieveChunks(
  storage: SpecialStorage,
  key: Key,
  list: ChunkListing,
  offset: number,
  signal?: AbortSignal,
): Promise<RetrieveResult | null> {
  const { chunkSize, count } = list;
  const total = await totalLength(storage, key, list, signal);
  if (total === null || offset > total) return null;
  const name = (i: number) => formatKey(chunkKey(key, chunkSize, i));
  // The chunk holding `offset` (the last one when it is the very end).
  const firstIndex = Math.min(count, Math.floor(offset / chunkSize) + 1);
  const within = offset - (firstIndex - 1) * chunkSize;
  const first = await storage.read(name(firstIndex), within, signal);
  if (first === null) return null;
  if (first.length !== chunkLength(total, chunkSize, firstIndex) - within) {
    first.data.destroy();
    return null;
  }
  const out = new ByteCounter();
  const ended = endedCleanly(out);
  const length = total - offset;
  void (async () => {
    let part: StoredObject | null = first;
    try {
      for (let i = firstIndex; ; i++) {
        await sendAll(part.data, out);
        if (i >= count) break;
        part = await storage.read(name(i + 1), 0, signal);
        if (part === null || part.length !== chunkLength(total, chunkSize, i + 1)) {
          part?.data.destroy();
          throw new MissingChunkError(i + 1);
        }
      }
      out.end();
    } catch (e) {
      part?.data.destroy();
      out.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  })();
  return { length, data: out, valid: ended.then((ok) => ok && out.count === length) };
}

/**
 * The whole content's length: the key's size when it has one (and the
 * list fits it), else all chunks but the last at full size plus the last
 * one's length as stored.
 */
async function totalLength(
  storage: SpecialStorage,
  key: Key,
  list: ChunkListing,
  signal?: AbortSignal,
): Promise<number | null> {
  if (key.size !== undefined) {
    return chunkCount(key.size, list.chunkSize) === list.count ? key.size : null;
  }
  const last = await storage.read(formatKey(chunkKey(key, list.chunkSize, list.count)), 0, signal);
  if (last === null) return null;
  last.data.destroy();
  if (last.length > list.chunkSize) return null;
  return (list.count - 1) * list.chunkSize + last.length;
}
