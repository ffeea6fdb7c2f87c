/**
 * remote.log (Logs/Remote/Pure.hs), old UUID-based format: the
 * configuration of each special remote, "<uuid> k=v k=v timestamp=<clock>",
 * values with spaces and "&" escaped as "&<code>;".
 */
import type { AnnexBranch } from "../branch.js";
import { parseUuidBasedLog } from "./uuid-based.js";

/** The branch path of the remote log. */
export const REMOTE_LOG = "remote.log";

/** What Haskell's `words` splits on (`isSpace`: ASCII and Latin-1 spaces, Unicode category Zs). */
const HASKELL_SPACES = /[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/;

/** Undoes git-annex's configEscape: "&<decimal code point>;" is that character. */
function unescapeValue(v: string): string {
  return v.replace(/&(\d+);/g, (_m, code: string) => {
    const n = Number(code);
    return n <= 0x10ffff ? String.fromCodePoint(n) : _m;
  });
}

/**
 * The fields a sameas remote takes from the remote it accesses the same
 * data as (Annex/SpecialRemote/Config.hs `sameasInherits`): encryption
 * and chunking, which must agree for both to read the same objects.
 */
const SAMEAS_INHERITS = [
  "encryption",
  "mac",
  "cipher",
  "cipherkeys",
  "pubkeys",
  "chunksize",
  "chunk",
];

/** `addSameasInherited`: a sameas remote's inherited fields come from its parent's entry only. */
function addSameasInherited(
  all: ReadonlyMap<string, ReadonlyMap<string, string>>,
  config: ReadonlyMap<string, string>,
): Map<string, string> {
  const sameas = config.get("sameas-uuid");
  const parent = sameas === undefined ? undefined : all.get(sameas);
  if (parent === undefined) return new Map(config);
  const out = new Map([...config].filter(([k]) => !SAMEAS_INHERITS.includes(k)));
  for (const k of SAMEAS_INHERITS) {
    const v = parent.get(k);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

/**
 * Parses remote.log into UUID → config (field names as written), the
 * newest entry per UUID, a sameas remote's encryption and chunking taken
 * from the remote it names (Logs/Remote/Pure.hs `calcRemoteConfigMap`).
 */
export function remoteConfigsFromLog(text: string): Map<string, Map<string, string>> {
  const parsed = new Map<string, Map<string, string>>();
  for (const [uuid, e] of parseUuidBasedLog(text, (v) => v)) {
    const config = new Map<string, string>();
    for (const word of e.value.split(HASKELL_SPACES)) {
      if (word === "") continue;
      const eq = word.indexOf("=");
      if (eq < 0) config.set(word, "");
      else config.set(word.slice(0, eq), unescapeValue(word.slice(eq + 1)));
    }
    parsed.set(uuid, config);
  }
  const out = new Map<string, Map<string, string>>();
  for (const [uuid, config] of parsed) out.set(uuid, addSameasInherited(parsed, config));
  return out;
}

/** The special remote configurations on the branch (journal included). */
export async function readRemoteConfigs(
  branch: AnnexBranch,
): Promise<Map<string, Map<string, string>>> {
  return remoteConfigsFromLog(await branch.read(REMOTE_LOG));
}
