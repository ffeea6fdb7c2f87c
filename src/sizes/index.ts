/**
 * @module sizes — byte sizes as git-annex reads and writes them (layer 1,
 * pure): its unit tables, `parseSize` ("100gb", "1.5 TiB"), and the
 * rough and precise ways it shows a size; and its durations ("7d",
 * "1h30m"), read and shown with units the same way.
 */
export {
  BadDurationError,
  parseDuration,
  parseDurationMs,
} from "./duration.js";
export { BadSizeError } from "./errors.js";
export { preciseSize, roughSize, type SizeFormat, showPercentage } from "./format.js";
export {
  isHaskellSpace,
  readDouble,
  readInteger,
  readishInt,
  readWholeDouble,
  readWholeInteger,
} from "./haskell-number.js";
export { parseSize } from "./parse.js";
export { repoHasSpace } from "./room.js";
export {
  BANDWIDTH_UNITS,
  COMMITTEE_UNITS,
  DATA_UNITS,
  STORAGE_UNITS,
  type Unit,
} from "./units.js";
