/**
 * @module branch — the git-annex branch: read (journal over branch),
 * write (journal, then commits that stock git-annex accepts), and the log
 * formats on it, each a pure parse/format pair plus a branch helper.
 */
export { AnnexBranch, type AutoCommitOptions, BRANCH_REF } from "./branch.js";
export { BranchError } from "./errors.js";
export { ANNEX_VERSION, type InitOptions, type InitResult, initRepository } from "./init.js";
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
export { locationLogPath, locationsOf, presentUuids, setLocation } from "./logs/location.js";
export {
  changeMapLog,
  formatMapLog,
  type MapLog,
  type MapLogEntry,
  parseMapLog,
} from "./logs/map-log.js";
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
  formatProxyLog,
  isLegalRemoteName,
  PROXY_LOG,
  type ProxyLogEntry,
  parseProxyLog,
  proxiesFromLog,
  readProxies,
  recordProxies,
} from "./logs/proxy.js";
export { REMOTE_LOG, readRemoteConfigs, remoteConfigsFromLog } from "./logs/remote-config.js";
export { deadUuidsFromLog, readDeadUuids, TRUST_LOG } from "./logs/trust.js";
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
