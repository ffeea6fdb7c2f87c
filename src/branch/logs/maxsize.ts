/**
 * maxsize.log (Logs/MaxSize.hs): the largest size each repository may
 * grow to, as a "new style" UUID-based map log (Logs/MapLog.hs): one line
 * per repository, "<clock> <uuid> <bytes>", the newest line per UUID wins.
 */
import { readInteger } from "../../sizes/index.js";
import type { AnnexBranch } from "../branch.js";
import type { TimeClock, VectorClock } from "./clock.js";
import { changeMapLog, formatMapLog, type LogEntry, parseMapLog } from "./map-log.js";
import { changeRepositoryEntry } from "./repository-entry.js";

/** The branch path of the maxsize log. */
export const MAXSIZE_LOG = "maxsize.log";

export interface MaxSizeEntry {
  readonly clock: VectorClock;
  /** Bytes; git-annex stores any integer, so this may be huge or even negative. */
  readonly maxSize: bigint;
}

/** Parsed maxsize.log: repository UUID to its current entry. */
export type MaxSizeLog = ReadonlyMap<string, MaxSizeEntry>;

function toMaxSizeLog(log: ReadonlyMap<string, LogEntry<bigint>>): Map<string, MaxSizeEntry> {
  const out = new Map<string, MaxSizeEntry>();
  // A line without a UUID names no repository: left out.
  for (const [u, e] of log) if (u !== "") out.set(u, { clock: e.clock, maxSize: e.value });
  return out;
}

function fromMaxSizeLog(log: MaxSizeLog): Map<string, LogEntry<bigint>> {
  return new Map([...log].map(([u, e]) => [u, { clock: e.clock, value: e.maxSize }]));
}

/**
 * Parses maxsize.log the way git-annex does: a map log whose value Haskell
 * reads as an integer (trailing text after the number is ignored); other
 * lines are skipped. When a UUID has several lines, the newest clock wins,
 * and the later line on a tie.
 *
 * @example
 * parseMaxSizeLog("1700000000s 5e7c…-… 1000000000\n").get("5e7c…-…")?.maxSize // 1000000000n
 */
export function parseMaxSizeLog(text: string): Map<string, MaxSizeEntry> {
  return toMaxSizeLog(parseMapLog(text, (v) => readInteger(v)?.value ?? null));
}

/** Writes maxsize.log, one line per repository, ordered by UUID. */
export function formatMaxSizeLog(log: MaxSizeLog): string {
  return formatMapLog(fromMaxSizeLog(log), (n) => n.toString());
}

/** The log with `uuid`'s maximum size set, clocked at `candidate` or later. */
export function changeMaxSize(
  log: MaxSizeLog,
  uuid: string,
  maxSize: bigint,
  candidate: TimeClock,
): Map<string, MaxSizeEntry> {
  return toMaxSizeLog(changeMapLog(fromMaxSizeLog(log), uuid, maxSize, candidate));
}

/**
 * Every recorded maximum size: UUID to bytes, journal included
 * (git-annex `getMaxSizes`).
 */
export async function readMaxSizes(branch: AnnexBranch): Promise<Map<string, bigint>> {
  const log = parseMaxSizeLog(await branch.read(MAXSIZE_LOG));
  return new Map([...log].map(([uuid, e]) => [uuid, e.maxSize]));
}

/**
 * Records in the journal the maximum size of a repository (git-annex
 * `recordMaxSize`). Throws BadUuidError for text that cannot be a UUID.
 *
 * @example
 * await recordMaxSize(branch, nodeUuid, parseSize("100gb"));
 */
export async function recordMaxSize(
  branch: AnnexBranch,
  uuid: string,
  maxSize: bigint,
): Promise<void> {
  await changeRepositoryEntry(branch, MAXSIZE_LOG, uuid, (old, now) =>
    formatMaxSizeLog(changeMaxSize(parseMaxSizeLog(old), uuid, maxSize, now)),
  );
}
