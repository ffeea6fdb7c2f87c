/** What this folder uses from lower layers, in one place. */
export { compareTrust, type MetaData, type TrustLevel } from "../branch/index.js";
export { formatKey, isClusterUuid, type Key } from "../keys/index.js";
