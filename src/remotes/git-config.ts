/**
 * What git-annex makes of a few git config keys (Git/Config.hs,
 * Git/Remote.hs): the remote a `remote.NAME.VAR` key is about, and URL
 * rewriting by `insteadOf`.
 */
import type { GitConfigValues } from "../git/index.js";

/** The remote a `remote.NAME.VAR` key belongs to (NAME may contain dots), or null. */
export function remoteNameOfKey(key: string): string | null {
  if (!key.startsWith("remote.")) return null;
  const last = key.lastIndexOf(".");
  if (last <= "remote.".length) return null;
  return key.slice("remote.".length, last);
}

/**
 * Applies `url.BASE.insteadOf` (or `annexInsteadOf`, for `suffix`
 * "annexinsteadof") rewriting as git-annex does (Git/Remote.hs
 * `insteadOfUrl`): among matching prefixes it takes the least in byte
 * order, that is the shortest (git itself takes the longest); null when
 * none matches.
 */
export function insteadOf(config: GitConfigValues, url: string, suffix: string): string | null {
  let best: { base: string; prefix: string } | null = null;
  for (const [key, value] of config.entries()) {
    if (value === null || !key.startsWith("url.") || !key.endsWith(`.${suffix}`)) continue;
    if (!url.startsWith(value)) continue;
    if (best === null || Buffer.compare(Buffer.from(value), Buffer.from(best.prefix)) <= 0) {
      best = { base: key.slice("url.".length, key.length - suffix.length - 1), prefix: value };
    }
  }
  return best === null ? null : best.base + url.slice(best.prefix.length);
}
