/**
 * remote.log (Logs/Remote/Pure.hs), old UUID-based format: the
 * configuration of each special remote, "<uuid> k=v k=v timestamp=<clock>",
 * values with spaces and "&" escaped as "&<code>;".
 */
import type { AnnexBranch } from "../branch.js";
import { parseUuidBasedLog } from "./uuid-based.js";

/** The branch path of the remote log. */
export const REMOTE_LOG = "remote.log";

/** Undoes git-annex's configEscape: "&<decimal code point>;" is that character. */
function unescapeValue(v: string): string {
  return v.replace(/&(\d+);/g, (_m, code: string) => {
    const n = Number(code);
    return n <= 0x10ffff ? String.fromCodePoint(n) : _m;
  });
}

/** Parses remote.log into UUID → config (field names as written). */
export function remoteConfigsFromLog(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [uuid, e] of parseUuidBasedLog(text, (v) => v)) {
    const config = new Map<string, string>();
    for (const word of e.value.split(/\s+/)) {
      if (word === "") continue;
      const eq = word.indexOf("=");
      if (eq < 0) config.set(word, "");
      else config.set(word.slice(0, eq), unescapeValue(word.slice(eq + 1)));
    }
    out.set(uuid, config);
  }
  return out;
}

/** The special remote configurations on the branch (journal included). */
export async function readRemoteConfigs(
  branch: AnnexBranch,
): Promise<Map<string, Map<string, string>>> {
  return remoteConfigsFromLog(await branch.read(REMOTE_LOG));
}
