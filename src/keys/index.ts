/**
 * @module
 * Basic values (layer 1): git-annex keys — parse, format, object locations,
 * content verification — and repository/cluster UUIDs. The only door into
 * `src/keys/`; nothing here does I/O except reading a file in `verifyFile`.
 */
export {
  calcKey,
  calcKeyOfFile,
  keyExtension,
  MAX_EXTENSION_LENGTH,
  MAX_EXTENSIONS,
} from "./calckey.js";
export { chunkCount, chunkKey, isStableKey } from "./chunks.js";
export { hashDirLower, hashDirMixed } from "./hashdirs.js";
export {
  BadKeyError,
  type BadKeyReason,
  formatKey,
  isChunkKey,
  type Key,
  nonChunkKey,
  parseKey,
} from "./key.js";
export { fileKey, keyOfLinkOrPointer, MAX_POINTER_SIZE } from "./link.js";
export { keyFile, objectPath } from "./locations.js";
export { BadUuidError, genClusterUuid, genUuid, isClusterUuid, parseUuid } from "./uuid.js";
export {
  type ReceiveVerification,
  receiveVerification,
  UnverifiableKeyError,
  type UnverifiableReason,
  type Verification,
  type Verifier,
  verificationFor,
  verifyFile,
} from "./verify.js";
