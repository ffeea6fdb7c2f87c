/** What this folder uses from lower layers, in one place. */
export { byteOrder, compareTrust, type MetaData, type TrustLevel } from "../branch/index.js";
export { formatKey, isClusterUuid, type Key } from "../keys/index.js";
export { BadSizeError, parseSize, readWholeDouble, repoHasSpace } from "../sizes/index.js";
