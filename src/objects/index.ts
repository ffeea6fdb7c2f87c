export {
  AnnexContentLockFiles,
  processContentLockFiles,
  type SharedContentLock,
} from "./content-lockfiles.js";
export { ObjectStoreError } from "./errors.js";
export { type HashDirScheme, type ObjectLayout, repositoryLayout } from "./layout.js";
export { type ObjectLockCounts, objectLockCounts } from "./lock-counts.js";
export { ContentLocks, DEFAULT_LOCK_RETENTION_MS, type HeldLock } from "./locks.js";
export { ObjectStore, type ReceiveFailure, type ReceiveResult } from "./store.js";
export {
  DEFAULT_TMP_LIMITS,
  isBadLimit,
  type PartialUpload,
  partialsToReclaim,
  type ReclaimReport,
  reclaimPeriodMs,
  type TmpLimits,
  type TmpLimitText,
  TmpReclaimer,
  type TmpReclaimerOptions,
  tmpLimitsFrom,
} from "./tmp-reclaim.js";
