/**
 * The chunk log (Logs/Chunk.hs, Logs/Chunk/Pure.hs): which special
 * remotes hold a key's content as chunks, of which size and how many, at
 * `<hashDirLower>/<keyFile>.log.cnk` on the branch. A map log whose field
 * is "<uuid>:<chunk method>" and whose value is the chunk count, so one
 * remote may hold the same key with several chunk sizes; a count of 0
 * means those chunks were removed:
 *
 *     1796528809s 623f9485-0b6b-4a37-9ac2-73df93c70b6b:65536 4
 *
 * The only chunk method git-annex writes is a decimal size (fixed-size
 * chunks); any other text is an unknown method, kept when the log is
 * rewritten and never used to find chunks.
 */
import { hashDirLower, type Key, keyFile, nonChunkKey, parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { currentClock } from "./clock.js";
import { changeMapLog, formatMapLog, type LogEntry, type MapLog, parseMapLog } from "./map-log.js";

/** A parsed chunk log: field "<uuid>:<method>" to its chunk count. */
export type ChunkLog = MapLog<bigint>;

/** One way a remote holds a key: `count` chunks of `chunkSize` bytes (the last may be shorter). */
export interface ChunkListing {
  readonly chunkSize: number;
  readonly count: number;
}

/**
 * Where a key's chunk log lives on the git-annex branch: beside its
 * location log, named for the whole object's key.
 *
 * @example
 * chunkLogPath(parseKey("SHA256E-s1000--02a6…7.x")) // "8ff/513/SHA256E-s1000--02a6…7.x.log.cnk"
 */
export function chunkLogPath(key: Key): string {
  const whole = nonChunkKey(key);
  return `${hashDirLower(whole)}/${keyFile(whole)}.log.cnk`;
}

const DECIMAL = /^\d+$/;

/**
 * Parses a chunk log as git-annex does: the value is a decimal count
 * (nothing after it), the field a UUID, ":" and a method; lines that do
 * not parse are skipped, and per field the newest clock wins.
 */
export function parseChunkLog(text: string): Map<string, LogEntry<bigint>> {
  const log = parseMapLog(text, (v) => (DECIMAL.test(v) ? BigInt(v) : null));
  for (const field of [...log.keys()]) if (!field.includes(":")) log.delete(field);
  return log;
}

/** Writes a chunk log, one line per remote and method, in byte order. */
export function formatChunkLog(log: ChunkLog): string {
  return formatMapLog(log, (n) => n.toString());
}

/** The field of `uuid`'s fixed-size chunks of `chunkSize`. */
function fieldOf(uuid: string, chunkSize: number): string {
  return `${uuid}:${chunkSize}`;
}

/**
 * The chunk lists `uuid` holds `key` as, by the log's current counts,
 * leaving out removed ones (count 0) and unknown methods (git-annex
 * `getCurrentChunks`), smallest chunk size first.
 */
export function chunkListings(log: ChunkLog, uuid: string): ChunkListing[] {
  const out: ChunkListing[] = [];
  const prefix = `${uuid}:`;
  for (const [field, e] of log) {
    if (!field.startsWith(prefix)) continue;
    const method = field.slice(prefix.length);
    if (!DECIMAL.test(method) || e.value <= 0n) continue;
    const chunkSize = Number(method);
    const count = Number(e.value);
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0 || !Number.isSafeInteger(count))
      continue;
    out.push({ chunkSize, count });
  }
  return out.sort((a, b) => a.chunkSize - b.chunkSize);
}

/** The chunk lists the branch (journal included) records for `uuid` holding `key`. */
export async function readChunkListings(
  branch: AnnexBranch,
  uuid: string,
  key: Key,
): Promise<ChunkListing[]> {
  return chunkListings(parseChunkLog(await branch.read(chunkLogPath(key))), uuid);
}

/**
 * Records in the journal that `uuid` holds `key` as `count` chunks of
 * `chunkSize` bytes, or with `count` 0 that it no longer does (git-annex
 * `chunksStored`, `chunksRemoved`). Throws BadUuidError for a bad UUID.
 */
export async function recordChunks(
  branch: AnnexBranch,
  uuid: string,
  key: Key,
  chunkSize: number,
  count: number,
): Promise<void> {
  parseUuid(uuid);
  await branch.change(chunkLogPath(key), (old) =>
    formatChunkLog(
      changeMapLog(parseChunkLog(old), fieldOf(uuid, chunkSize), BigInt(count), currentClock()),
    ),
  );
}
