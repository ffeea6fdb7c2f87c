/**
 * @module
 * The part of the keys layer that runs anywhere, browsers included (no
 * Node built-ins, no Buffer): keys as values, their extensions and their
 * computation over a caller's hash, UUIDs. The client library enters the
 * layer here; index.ts re-exports all of it for everyone else.
 */
export {
  calcKeyWith,
  type KeyHasher,
  keyExtension,
  MAX_EXTENSION_LENGTH,
  MAX_EXTENSIONS,
} from "./calckey.js";
export { chunkCount, chunkKey, isStableKey } from "./chunks.js";
export {
  BadKeyError,
  type BadKeyReason,
  formatKey,
  isChunkKey,
  type Key,
  keyHashPart,
  nonChunkKey,
  parseKey,
} from "./key.js";
export { BadUuidError, genClusterUuid, genUuid, isClusterUuid, parseUuid } from "./uuid.js";
