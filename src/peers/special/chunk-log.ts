/**
 * What a chunked special remote's Peer needs of the git-annex branch: the
 * chunk log (`<key>.log.cnk`), read and written by whoever owns the branch
 * (the gateway), so the Peer itself holds no repository.
 */
import type { Key } from "../../keys/index.js";

/** One way a remote holds a key: `count` chunks of `chunkSize` bytes, the last maybe shorter. */
export interface ChunkListing {
  readonly chunkSize: number;
  readonly count: number;
}

export interface SpecialChunkLog {
  /** The chunk lists the log records for `uuid` holding `key` (removed ones left out). */
  chunkListings(uuid: string, key: Key): Promise<readonly ChunkListing[]>;
  /**
   * Record that `uuid` holds `key` as `count` chunks of `chunkSize`
   * bytes, or with `count` 0 that it no longer does.
   */
  recordChunks(uuid: string, key: Key, chunkSize: number, count: number): Promise<void>;
}
