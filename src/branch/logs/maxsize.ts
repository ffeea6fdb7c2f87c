/**
 * maxsize.log (Logs/MaxSize.hs): the largest size each repository may
 * grow to, as a "new style" UUID-based map log (Logs/MapLog.hs): one line
 * per repository, "<clock> <uuid> <bytes>", the newest line per UUID wins.
 */
import { parseUuid } from "../../keys/index.js";
import { readInteger } from "../../sizes/index.js";
import type { AnnexBranch } from "../branch.js";
import {
  advanceClock,
  compareClocks,
  currentClock,
  formatClock,
  parseClock,
  type TimeClock,
  type VectorClock,
} from "./clock.js";
import { byteOrder, logLines } from "./presence.js";

/** The branch path of the maxsize log. */
export const MAXSIZE_LOG = "maxsize.log";

export interface MaxSizeEntry {
  readonly clock: VectorClock;
  /** Bytes; git-annex stores any integer, so this may be huge or even negative. */
  readonly maxSize: bigint;
}

/** Parsed maxsize.log: repository UUID to its current entry. */
export type MaxSizeLog = ReadonlyMap<string, MaxSizeEntry>;

const LINE = /^(\S+) ([^ ]*) (.*)$/s;

/**
 * Parses maxsize.log the way git-annex does: a line is the clock, one
 * space, the UUID, one space, and a value that Haskell reads as an
 * integer (trailing text after the number is ignored); other lines are
 * skipped. When a UUID has several lines, the newest clock wins, and the
 * later line on a tie.
 *
 * @example
 * parseMaxSizeLog("1700000000s 5e7c…-… 1000000000\n").get("5e7c…-…")?.maxSize // 1000000000n
 */
export function parseMaxSizeLog(text: string): Map<string, MaxSizeEntry> {
  const log = new Map<string, MaxSizeEntry>();
  for (const line of logLines(text)) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const clock = parseClock(m[1] ?? "");
    const uuid = m[2] ?? "";
    const n = readInteger(m[3] ?? "");
    if (clock === null || uuid === "" || n === null) continue;
    const kept = log.get(uuid);
    if (kept === undefined || compareClocks(kept.clock, clock) <= 0) {
      log.set(uuid, { clock, maxSize: n.value });
    }
  }
  return log;
}

/** Writes maxsize.log, one line per repository, ordered by UUID. */
export function formatMaxSizeLog(log: MaxSizeLog): string {
  return [...log.keys()]
    .sort(byteOrder)
    .map((uuid) => {
      const e = log.get(uuid);
      return e === undefined ? "" : `${formatClock(e.clock)} ${uuid} ${e.maxSize}\n`;
    })
    .join("");
}

/** The log with `uuid`'s maximum size set, clocked at `candidate` or later. */
export function changeMaxSize(
  log: MaxSizeLog,
  uuid: string,
  maxSize: bigint,
  candidate: TimeClock,
): Map<string, MaxSizeEntry> {
  const old = log.get(uuid);
  const clock = advanceClock(candidate, old === undefined ? [] : [old.clock]);
  return new Map(log).set(uuid, { clock, maxSize });
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
  parseUuid(uuid);
  await branch.change(MAXSIZE_LOG, (old) =>
    formatMaxSizeLog(changeMaxSize(parseMaxSizeLog(old), uuid, maxSize, currentClock())),
  );
}
