export { ObjectStoreError } from "./errors.js";
export { type HashDirScheme, type ObjectLayout, repositoryLayout } from "./layout.js";
export { type LockFile, LockFiles } from "./lockfiles.js";
export { ContentLocks, DEFAULT_LOCK_RETENTION_MS, type HeldLock } from "./locks.js";
export { KeyedMutex } from "./mutex.js";
export { ObjectStore, type ReceiveFailure, type ReceiveResult } from "./store.js";
