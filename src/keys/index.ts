/**
 * @module
 * Basic values (layer 1): git-annex keys — parse, format, object locations,
 * content verification — and repository/cluster UUIDs. The door into
 * `src/keys/` (portable.ts is the one for code that must run anywhere);
 * nothing here does I/O except reading files in `verifyFile` and `calcKeyOfFile`.
 */
export { calcKey, calcKeyOfFile } from "./calckey-node.js";
export { hashDirLower, hashDirMixed } from "./hashdirs.js";
export { fileKey, keyOfLinkOrPointer, MAX_POINTER_SIZE } from "./link.js";
export { keyFile, objectPath } from "./locations.js";
export * from "./portable.js";
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
