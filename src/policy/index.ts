/**
 * @module policy — decisions from branch state (above preferred-content):
 * the one policy snapshot builder, where a cluster's content goes and is
 * read from (and the gateway's own copy), repository sizes from location
 * logs (full, incremental, cached) and free space with transfers in flight.
 */
export { LiveSizes, type Reservation } from "./live-sizes.js";
export {
  type ClusterIdentity,
  GATEWAY_COST,
  gatewayMayKeepCopy,
  isClusterCopy,
} from "./own-copy.js";
export { type Candidate, readOrder, uploadTargets } from "./placement.js";
export {
  buildPolicySnapshot,
  configuredTrust,
  type PolicySource,
  weighsSizes,
} from "./policy-snapshot.js";
export {
  type CachedRepoSizes,
  loadRepoSizesCache,
  repoSizesCachePath,
  saveRepoSizesCache,
} from "./repo-sizes/cache.js";
export {
  type ComputeOptions,
  computeRepoSizes,
  updateRepoSizes,
} from "./repo-sizes/compute.js";
export { locationLogKeySize } from "./repo-sizes/location-logs.js";
export {
  type CurrentRepoSizesOptions,
  currentRepoSizes,
  deadRepositories,
  knownRepositories,
  type RepoSizesReport,
} from "./repo-sizes/repo-sizes.js";
export { accountKey, type RepoSizes } from "./repo-sizes/sizes-map.js";
export {
  LiveSizesError,
  type OthersBytes,
  parseRecord,
  SharedLiveRecords,
  type SharedLiveRecordsOptions,
  type SharedStore,
} from "./shared-live-records.js";
export { SharedLiveSizes, type SharedLiveSizesOptions } from "./shared-live-sizes.js";
export { refreshLiveSizes, type SnapshotSizes, snapshotSizes } from "./snapshot-sizes.js";
export {
  LivePlacement,
  type LivePlacementOptions,
  type Placement,
  type PlacementDecision,
  type SpaceHold,
  type WantsUploadOptions,
  wantsUpload,
} from "./upload-placement.js";
