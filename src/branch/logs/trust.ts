/**
 * trust.log (Logs/Trust/Pure.hs): one character per repository, "1"
 * trusted, "0" untrusted, "X" dead, "?" semitrusted; an empty value (very
 * old logs) means trusted and an unknown character semitrusted.
 */
import type { AnnexBranch } from "../branch.js";
import { entryValues, type LogEntry, type MapLog } from "./map-log.js";
import { type RepositoryLogFormat, setRepositoryValue } from "./repository-entry.js";
import { formatUuidBasedLog, parseUuidBasedLog } from "./uuid-based.js";

export const TRUST_LOG = "trust.log";

/** Trust levels, in git-annex's order (dead < untrusted < semitrusted < trusted). */
export type TrustLevel = "dead" | "untrusted" | "semitrusted" | "trusted";

export const TRUST_LEVELS: readonly TrustLevel[] = ["dead", "untrusted", "semitrusted", "trusted"];

/** Orders trust levels: negative when `a` is less trusted than `b`. */
export function compareTrust(a: TrustLevel, b: TrustLevel): number {
  return TRUST_LEVELS.indexOf(a) - TRUST_LEVELS.indexOf(b);
}

/** A trust level's name as git-annex reads it ("trusted", "dead", ...), or null. */
export function readTrustLevel(name: string): TrustLevel | null {
  return (TRUST_LEVELS as readonly string[]).includes(name) ? (name as TrustLevel) : null;
}

const CHAR: Record<TrustLevel, string> = {
  trusted: "1",
  untrusted: "0",
  dead: "X",
  semitrusted: "?",
};

function parseTrustValue(v: string): TrustLevel | null {
  if (v === "") return "trusted";
  if ([...v].length !== 1) return null;
  return v === "1" ? "trusted" : v === "0" ? "untrusted" : v === "X" ? "dead" : "semitrusted";
}

export function parseTrustLog(text: string): Map<string, LogEntry<TrustLevel>> {
  return parseUuidBasedLog(text, parseTrustValue);
}

export function formatTrustLog(log: MapLog<TrustLevel>): string {
  return formatUuidBasedLog(log, (t) => CHAR[t]);
}

/** The logged trust level of each repository that has one (others are semitrusted). */
export async function readTrustLevels(branch: AnnexBranch): Promise<Map<string, TrustLevel>> {
  return entryValues(parseTrustLog(await branch.read(TRUST_LOG)));
}

const TRUST_FORMAT: RepositoryLogFormat<TrustLevel> = {
  path: TRUST_LOG,
  parse: parseTrustLog,
  format: formatTrustLog,
};

/** Records the trust level of a repository (git-annex `trustSet`). */
export function recordTrust(branch: AnnexBranch, uuid: string, level: TrustLevel): Promise<void> {
  return setRepositoryValue(branch, TRUST_FORMAT, uuid, level);
}

/** UUIDs whose current trust level in `text` (a trust.log) is dead. */
export function deadUuidsFromLog(text: string): Set<string> {
  const dead = new Set<string>();
  for (const [uuid, e] of parseTrustLog(text)) if (e.value === "dead") dead.add(uuid);
  return dead;
}

/**
 * Repositories marked dead on the branch. (git config
 * `remote.NAME.annex-trustlevel` overrides are not applied here.)
 */
export async function readDeadUuids(branch: AnnexBranch): Promise<Set<string>> {
  return deadUuidsFromLog(await branch.read(TRUST_LOG));
}
