/** A chunk log held in memory, for tests of chunked special-remote Peers without a branch. */
import { formatKey, type Key, nonChunkKey } from "../../keys/index.js";
import type { ChunkListing, SpecialChunkLog } from "./chunk-log.js";

export class MemoryChunkLog implements SpecialChunkLog {
  /** "<uuid> <key>" to chunk size to count, as recorded (0 for removed). */
  readonly entries = new Map<string, Map<number, number>>();

  async chunkListings(uuid: string, key: Key): Promise<ChunkListing[]> {
    const sizes = this.entries.get(`${uuid} ${formatKey(nonChunkKey(key))}`) ?? new Map();
    return [...sizes]
      .filter(([, count]) => count > 0)
      .map(([chunkSize, count]) => ({ chunkSize, count }))
      .sort((a, b) => a.chunkSize - b.chunkSize);
  }

  async recordChunks(uuid: string, key: Key, chunkSize: number, count: number): Promise<void> {
    const id = `${uuid} ${formatKey(nonChunkKey(key))}`;
    const sizes = this.entries.get(id) ?? new Map<number, number>();
    sizes.set(chunkSize, count);
    this.entries.set(id, sizes);
  }
}
