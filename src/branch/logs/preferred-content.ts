/**
 * preferred-content.log and required-content.log (old-form UUID-based
 * logs whose value is an expression), and group-preferred-content.log (a
 * map log from group to expression): Logs/PreferredContent/Raw.hs. The
 * expressions are stored unparsed; src/preferred-content parses them.
 */
import { parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { currentClock, type TimeClock } from "./clock.js";
import {
  changeMapLog,
  entryValues,
  formatMapLog,
  type LogEntry,
  type MapLog,
  parseMapLog,
} from "./map-log.js";
import { formatUuidBasedLog, parseUuidBasedLog } from "./uuid-based.js";

export const PREFERRED_CONTENT_LOG = "preferred-content.log";
export const REQUIRED_CONTENT_LOG = "required-content.log";
export const GROUP_PREFERRED_CONTENT_LOG = "group-preferred-content.log";

/** Which per-repository expression log. */
export type ContentLog = typeof PREFERRED_CONTENT_LOG | typeof REQUIRED_CONTENT_LOG;

export function parseExpressionLog(text: string): Map<string, LogEntry<string>> {
  return parseUuidBasedLog(text, (v) => v);
}

export function formatExpressionLog(log: MapLog<string>): string {
  return formatUuidBasedLog(log, (v) => v);
}

export function parseGroupExpressionLog(text: string): Map<string, LogEntry<string, TimeClock>> {
  return parseMapLog(text, (v) => v);
}

export function formatGroupExpressionLog(log: MapLog<string>): string {
  return formatMapLog(log, (v) => v);
}

function checkExpression(expr: string): void {
  if (/[\r\n]/.test(expr)) throw new RangeError("an expression cannot contain a line break");
}

/** Every repository's expression in `log` (preferred or required content). */
export async function readContentExpressions(
  branch: AnnexBranch,
  log: ContentLog,
): Promise<Map<string, string>> {
  return entryValues(parseExpressionLog(await branch.read(log)));
}

/** Sets a repository's preferred (or required) content expression, unchecked. */
export async function recordContentExpression(
  branch: AnnexBranch,
  log: ContentLog,
  uuid: string,
  expr: string,
): Promise<void> {
  parseUuid(uuid);
  checkExpression(expr);
  await branch.change(log, (old) =>
    formatExpressionLog(changeMapLog(parseExpressionLog(old), uuid, expr, currentClock())),
  );
}

/** Every group's groupwanted expression. */
export async function readGroupExpressions(branch: AnnexBranch): Promise<Map<string, string>> {
  return entryValues(parseGroupExpressionLog(await branch.read(GROUP_PREFERRED_CONTENT_LOG)));
}

/** Sets a group's groupwanted expression, unchecked. */
export async function recordGroupExpression(
  branch: AnnexBranch,
  group: string,
  expr: string,
): Promise<void> {
  checkExpression(expr);
  if (group === "" || /\s/.test(group))
    throw new RangeError(`bad group name ${JSON.stringify(group)}`);
  await branch.change(GROUP_PREFERRED_CONTENT_LOG, (old) =>
    formatGroupExpressionLog(
      changeMapLog(parseGroupExpressionLog(old), group, expr, currentClock()),
    ),
  );
}
