/**
 * maxsize.log (Logs/MaxSize.hs): the largest size each repository may
 * grow to, as a "new style" UUID-based map log (Logs/MapLog.hs): one line
 * per repository, "<clock> <uuid> <bytes>", the newest line per UUID wins.
 * Values are bytes; git-annex stores any integer, so one may be huge or
 * even negative.
 */
import { readInteger } from "../../sizes/index.js";
import type { AnnexBranch } from "../branch.js";
import { entryValues, formatMapLog, type LogEntry, type MapLog, parseMapLog } from "./map-log.js";
import { type RepositoryLogFormat, setRepositoryValue } from "./repository-entry.js";

/** The branch path of the maxsize log. */
export const MAXSIZE_LOG = "maxsize.log";

/** Parsed maxsize.log: repository UUID to its current maximum size. */
export type MaxSizeLog = MapLog<bigint>;

/**
 * Parses maxsize.log the way git-annex does: a map log whose value Haskell
 * reads as an integer (trailing text after the number is ignored); other
 * lines are skipped. When a UUID has several lines, the newest clock wins,
 * and the later line on a tie.
 *
 * @example
 * parseMaxSizeLog("1700000000s 5e7c…-… 1000000000\n").get("5e7c…-…")?.value // 1000000000n
 */
export function parseMaxSizeLog(text: string): Map<string, LogEntry<bigint>> {
  const log = parseMapLog(text, (v) => readInteger(v)?.value ?? null);
  // A line without a UUID names no repository: left out.
  log.delete("");
  return log;
}

/** Writes maxsize.log, one line per repository, ordered by UUID. */
export function formatMaxSizeLog(log: MaxSizeLog): string {
  return formatMapLog(log, (n) => n.toString());
}

const MAXSIZE_FORMAT: RepositoryLogFormat<bigint> = {
  path: MAXSIZE_LOG,
  parse: parseMaxSizeLog,
  format: formatMaxSizeLog,
};

/**
 * Every recorded maximum size: UUID to bytes, journal included
 * (git-annex `getMaxSizes`).
 */
export async function readMaxSizes(branch: AnnexBranch): Promise<Map<string, bigint>> {
  return entryValues(parseMaxSizeLog(await branch.read(MAXSIZE_LOG)));
}

/**
 * Records in the journal the maximum size of a repository (git-annex
 * `recordMaxSize`). Throws BadUuidError for text that cannot be a UUID.
 *
 * @example
 * await recordMaxSize(branch, nodeUuid, parseSize("100gb"));
 */
export function recordMaxSize(branch: AnnexBranch, uuid: string, maxSize: bigint): Promise<void> {
  return setRepositoryValue(branch, MAXSIZE_FORMAT, uuid, maxSize);
}
