/**
 * @module branch — the git-annex branch: read (journal over branch),
 * write (journal, then commits that stock git-annex accepts), and the log
 * formats on it, each a pure parse/format pair plus a branch helper.
 */
export { AnnexBranch, type AutoCommitOptions, BRANCH_REF } from "./branch.js";
export { BranchError } from "./errors.js";
export { ANNEX_VERSION, type InitOptions, type InitResult, initRepository } from "./init.js";
export { branchPathOf, journalFileName } from "./journal.js";
export {
  advanceClock,
  clockFromSeconds,
  compareClocks,
  currentClock,
  formatClock,
  parseClock,
  type TimeClock,
  UNKNOWN_CLOCK,
  type UnknownClock,
  type VectorClock,
} from "./logs/clock.js";
export { locationLogPath, locationsOf, presentUuids, setLocation } from "./logs/location.js";
export {
  changeMaxSize,
  formatMaxSizeLog,
  MAXSIZE_LOG,
  type MaxSizeEntry,
  type MaxSizeLog,
  parseMaxSizeLog,
  readMaxSizes,
  recordMaxSize,
} from "./logs/maxsize.js";
export {
  compactPresenceLog,
  formatPresenceLog,
  type PresenceLine,
  type PresenceStatus,
  parsePresenceLog,
  presentInfos,
  setPresence,
} from "./logs/presence.js";
export {
  describeUuid,
  formatUuidLog,
  parseUuidLog,
  readUuidDescriptions,
  setUuidDescription,
  UUID_LOG,
  type UuidLog,
  type UuidLogEntry,
} from "./logs/uuid.js";
