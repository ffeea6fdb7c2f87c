/**
 * numcopies.log and mincopies.log (Logs/NumCopies.hs, Logs/SingleValue):
 * single-value logs, "<clock> <n>" lines of which the newest wins (the
 * larger value on a tie). A value below 1 is taken as 1.
 */

import { readishInt } from "../../sizes/index.js";
import type { AnnexBranch } from "../branch.js";
import {
  advanceClock,
  compareClocks,
  currentClock,
  formatClock,
  parseClock,
  type TimeClock,
} from "./clock.js";
import { logLines } from "./presence.js";

export const NUMCOPIES_LOG = "numcopies.log";
export const MINCOPIES_LOG = "mincopies.log";

/** git-annex's default numcopies and mincopies when neither is configured. */
export const DEFAULT_NUMCOPIES = 1;
export const DEFAULT_MINCOPIES = 1;

export interface CopiesLine {
  readonly clock: TimeClock;
  readonly value: number;
}

/** Parses a numcopies/mincopies log; lines that do not parse are skipped. */
export function parseCopiesLog(text: string): CopiesLine[] {
  const lines: CopiesLine[] = [];
  for (const l of logLines(text)) {
    const sp = l.indexOf(" ");
    if (sp < 0) continue;
    const clock = parseClock(l.slice(0, sp));
    const n = readishInt(l.slice(sp + 1));
    if (clock === null || n === null) continue;
    lines.push({ clock, value: n > 0 ? n : 1 });
  }
  return lines;
}

/** The value in effect: the newest line's, or null when the log is empty. */
export function newestCopies(lines: readonly CopiesLine[]): number | null {
  let best: CopiesLine | null = null;
  for (const l of lines) {
    const c = best === null ? 1 : compareClocks(l.clock, best.clock);
    if (best === null || c > 0 || (c === 0 && l.value > best.value)) best = l;
  }
  return best?.value ?? null;
}

/** The log after setting `value`: one line, clocked past every old one. */
export function formatCopiesLog(
  old: readonly CopiesLine[],
  value: number,
  candidate: TimeClock,
): string {
  const clock = advanceClock(
    candidate,
    old.map((l) => l.clock),
  );
  return `${formatClock(clock)} ${value}\n`;
}

/** The configured numcopies (or mincopies), or null when never set. */
export async function readCopies(
  branch: AnnexBranch,
  log: typeof NUMCOPIES_LOG | typeof MINCOPIES_LOG,
): Promise<number | null> {
  return newestCopies(parseCopiesLog(await branch.read(log)));
}

/**
 * Sets numcopies (or mincopies), as `git annex numcopies N` does; nothing
 * is written when the value is already in effect. Values below 1 are refused.
 */
export async function recordCopies(
  branch: AnnexBranch,
  log: typeof NUMCOPIES_LOG | typeof MINCOPIES_LOG,
  value: number,
): Promise<boolean> {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`bad number of copies ${value}`);
  return branch.change(log, (old) => {
    const lines = parseCopiesLog(old);
    if (newestCopies(lines) === value) return old;
    return formatCopiesLog(lines, value, currentClock());
  });
}
