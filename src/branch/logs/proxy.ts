/**
 * proxy.log (Logs/Proxy.hs): for each repository, the remotes it proxies
 * for, as "<clock> <proxy uuid> <uuid>:<name> <uuid>:<name> ..." in the
 * new UUID-based format (map-log.ts). A client makes a remote
 * "PROXYNAME-<name>" for each entry of a remote it can proxy through.
 */
import { parseUuid } from "../../keys/index.js";
import type { AnnexBranch } from "../branch.js";
import { BranchError } from "../errors.js";
import { currentClock, type TimeClock } from "./clock.js";
import {
  changeMapLog,
  formatMapLog,
  type LogEntry,
  type MapLog,
  parseMapLog,
  parseWords,
} from "./map-log.js";
import { byteOrder } from "./presence.js";

/** The branch path of the proxy log. */
export const PROXY_LOG = "proxy.log";

/** One remote a repository proxies for. */
export interface ProxyLogEntry {
  readonly uuid: string;
  /** The proxy's name for it; a legal git remote name when read through {@link readProxies}. */
  readonly name: string;
}

/**
 * Whether `name` is a legal git remote name as git-annex judges it
 * (Git/Remote.hs `isLegalName`): non-empty; only letters, digits, "_",
 * "-" and "."; not starting with "." or "-".
 */
export function isLegalRemoteName(name: string): boolean {
  return /^[\p{L}\p{N}_][\p{L}\p{N}_.-]*$/u.test(name);
}

/** Orders entries as git-annex's Set Proxy does: by UUID, then name (bytes). */
function compareEntries(a: ProxyLogEntry, b: ProxyLogEntry): number {
  return byteOrder(a.uuid, b.uuid) || byteOrder(a.name, b.name);
}

/** Sorted and de-duplicated, as a Set Proxy is. */
export function normaliseProxyEntries(entries: readonly ProxyLogEntry[]): ProxyLogEntry[] {
  const sorted = [...entries].sort(compareEntries);
  return sorted.filter(
    (e, i) => i === 0 || compareEntries(sorted[i - 1] as ProxyLogEntry, e) !== 0,
  );
}

function parseProxyList(s: string): ProxyLogEntry[] | null {
  const words = parseWords(s, (text, at) => {
    // uuid: one or more characters up to ":" (spaces included, as
    // attoparsec's takeWhile1 takes them); name: up to a space.
    const colon = text.indexOf(":", at);
    if (colon <= at) return null;
    let end = text.indexOf(" ", colon + 1);
    if (end < 0) end = text.length;
    if (end === colon + 1) return null;
    return { word: { uuid: text.slice(at, colon), name: text.slice(colon + 1, end) }, end };
  });
  return words === null ? null : normaliseProxyEntries(words);
}

function formatProxyList(entries: readonly ProxyLogEntry[]): string {
  return normaliseProxyEntries(entries)
    .map((e) => `${e.uuid}:${e.name}`)
    .join(" ");
}

/** Parses proxy.log exactly as written; names are not validated here. */
export function parseProxyLog(text: string): Map<string, LogEntry<ProxyLogEntry[], TimeClock>> {
  return parseMapLog(text, parseProxyList);
}

/** Writes proxy.log the way git-annex does. */
export function formatProxyLog(log: MapLog<readonly ProxyLogEntry[]>): string {
  return formatMapLog(log, formatProxyList);
}

/**
 * The current proxies of every repository, entries whose name is not a
 * legal git remote name left out (as git-annex's `getProxies` does, so a
 * name can never smuggle escapes or paths into a remote name).
 */
export function proxiesFromLog(text: string): Map<string, ProxyLogEntry[]> {
  const out = new Map<string, ProxyLogEntry[]>();
  for (const [uuid, e] of parseProxyLog(text)) {
    out.set(
      uuid,
      e.value.filter((p) => isLegalRemoteName(p.name)),
    );
  }
  return out;
}

/** {@link proxiesFromLog} of the branch's proxy.log (journal included). */
export async function readProxies(branch: AnnexBranch): Promise<Map<string, ProxyLogEntry[]>> {
  return proxiesFromLog(await branch.read(PROXY_LOG));
}

/**
 * Records in the journal that repository `myUuid` proxies for `entries`
 * (replacing what it proxied before), as git-annex's `recordProxies`.
 * Like git-annex it always writes a new clock: callers compare first.
 *
 * @throws BadUuidError for a UUID that cannot go into a log line;
 * BranchError AG_BRANCH_CONTENT for an entry that would not read back
 * (a UUID with ":", a name that is not a legal remote name).
 */
export async function recordProxies(
  branch: AnnexBranch,
  myUuid: string,
  entries: readonly ProxyLogEntry[],
  candidate: TimeClock = currentClock(),
): Promise<void> {
  parseUuid(myUuid);
  for (const e of entries) {
    parseUuid(e.uuid);
    if (e.uuid.includes(":") || !isLegalRemoteName(e.name)) {
      throw new BranchError(
        "AG_BRANCH_CONTENT",
        `cannot record proxy ${JSON.stringify(e.name)} (${e.uuid}) in proxy.log`,
        { uuid: e.uuid, name: e.name },
      );
    }
  }
  const value = normaliseProxyEntries(entries);
  await branch.change(PROXY_LOG, (old) =>
    formatProxyLog(changeMapLog(parseProxyLog(old), myUuid, value, candidate)),
  );
}
