/**
 * @module branch — the git-annex branch: read (journal over branch),
 * write (journal, then commits that stock git-annex accepts), and the log
 * formats on it, each a pure parse/format pair plus a branch helper.
 */
export { AnnexBranch, type AutoCommitOptions, BRANCH_REF } from "./branch.js";
export { BranchError } from "./errors.js";
export { ANNEX_VERSION, type InitOptions, type InitResult, initRepository } from "./init.js";
export { branchPathOf, journalFileName, readJournalDir } from "./journal.js";
export {
  type ChunkListing,
  type ChunkLog,
  chunkListings,
  chunkLogPath,
  formatChunkLog,
  parseChunkLog,
  readChunkListings,
  recordChunks,
} from "./logs/chunk.js";
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
export {
  CLUSTER_LOG,
  clustersFromLog,
  formatClusterLog,
  parseClusterLog,
  readClusters,
  recordCluster,
} from "./logs/cluster.js";
export { DIFFERENCE_LOG, readDifferences, recordDifferences } from "./logs/difference.js";
export {
  EXPORT_LOG,
  EXPORT_TREE_GRAFT,
  type ExportedTrees,
  type ExportParticipants,
  exportedTreesOf,
  parseExportLog,
  readExportLog,
  recordExportBeginning,
  recordExportUnderway,
} from "./logs/export.js";
export {
  formatGroupLog,
  GROUP_LOG,
  parseGroupLog,
  readGroups,
  recordGroups,
} from "./logs/group.js";
export {
  locationLogPath,
  locationsOf,
  presentUuids,
  setLocation,
  setLocations,
} from "./logs/location.js";
export {
  changeMapLog,
  entryValues,
  formatMapLog,
  type LogEntry,
  type MapLog,
  parseMapLog,
} from "./logs/map-log.js";
export {
  formatMaxSizeLog,
  MAXSIZE_LOG,
  type MaxSizeLog,
  parseMaxSizeLog,
  readMaxSizes,
  recordMaxSize,
} from "./logs/maxsize.js";
export {
  currentMetaData,
  foldField,
  type LoggedField,
  type LoggedMetaData,
  type MetaData,
  type MetaField,
  metadataLogPath,
  parseMetaDataLog,
  readMetaData,
} from "./logs/metadata.js";
export {
  addMetaData,
  differenceMetaData,
  formatMetaDataLog,
  loggedMetaData,
  sameExactly,
  sameValues,
  serializeMetaData,
  simplifyMetaDataLog,
  unionMetaData,
  withoutLastChanged,
} from "./logs/metadata-write.js";
export {
  type CopiesLine,
  DEFAULT_MINCOPIES,
  DEFAULT_NUMCOPIES,
  formatCopiesLog,
  MINCOPIES_LOG,
  NUMCOPIES_LOG,
  newestCopies,
  parseCopiesLog,
  readCopies,
  recordCopies,
} from "./logs/numcopies.js";
export {
  type ContentLog,
  formatExpressionLog,
  formatGroupExpressionLog,
  GROUP_PREFERRED_CONTENT_LOG,
  PREFERRED_CONTENT_LOG,
  parseExpressionLog,
  parseGroupExpressionLog,
  REQUIRED_CONTENT_LOG,
  readContentExpressions,
  readGroupExpressions,
  recordContentExpression,
  recordGroupExpression,
} from "./logs/preferred-content.js";
export {
  byteOrder,
  compactPresenceLog,
  formatPresenceLog,
  type PresenceLine,
  type PresenceStatus,
  parsePresenceLog,
  presentInfos,
  setPresence,
} from "./logs/presence.js";
export {
  formatProxyLog,
  isLegalRemoteName,
  normaliseProxyEntries,
  PROXY_LOG,
  type ProxyLogEntry,
  parseProxyLog,
  proxiesFromLog,
  readProxies,
  recordProxies,
} from "./logs/proxy.js";

export { REMOTE_LOG, readRemoteConfigs, remoteConfigsFromLog } from "./logs/remote-config.js";
export {
  compareTrust,
  deadUuidsFromLog,
  formatTrustLog,
  parseTrustLog,
  readDeadUuids,
  readTrustLevel,
  readTrustLevels,
  recordTrust,
  TRUST_LEVELS,
  TRUST_LOG,
  type TrustLevel,
} from "./logs/trust.js";
export {
  formatUuidLog,
  parseUuidLog,
  readUuidDescriptions,
  setUuidDescription,
  UUID_LOG,
  type UuidLog,
} from "./logs/uuid.js";
export { formatUuidBasedLog, parseUuidBasedLog } from "./logs/uuid-based.js";
