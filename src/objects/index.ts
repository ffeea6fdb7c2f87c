export { type LockFile, LockFiles } from "./lockfiles.js";
export { ContentLocks, DEFAULT_LOCK_RETENTION_MS, type HeldLock } from "./locks.js";
export { KeyedMutex } from "./mutex.js";
export {
  type ObjectLayout,
  ObjectStore,
  ObjectStoreError,
  type ReceiveFailure,
  type ReceiveResult,
} from "./store.js";
