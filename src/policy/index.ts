/**
 * @module policy — decisions from branch state (layer 4): repository
 * sizes from location logs (full, incremental, cached) and free space with
 * transfers in flight.
 */
export { hasSpaceFor, LiveSizes, type Reservation } from "./live-sizes.js";
export {
  type CachedRepoSizes,
  loadRepoSizesCache,
  repoSizesCachePath,
  saveRepoSizesCache,
} from "./repo-sizes/cache.js";
export {
  addJournalledChanges,
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
export { type SnapshotSizes, snapshotSizes } from "./snapshot-sizes.js";
