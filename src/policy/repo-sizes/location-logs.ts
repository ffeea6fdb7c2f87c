/**
 * Which files of the git-annex branch are location logs, and the size of
 * the key each one is about, read from its file name alone
 * (Logs.hs `locationLogFileKey`, Types/Key.hs `keyParser`).
 */
import { isClusterUuid } from "../../keys/index.js";

/*
 * "<hash>/<hash>/<keyFile>.log". A key is a backend (no "-"), then the
 * optional fields -s<size> -m<mtime> -S<chunk size> -C<chunk number> in that
 * order, then "--" and the name. keyFile escaping only touches the name, so
 * the size can be read without undoing it.
 */
const LOCATION_LOG =
  /^[^/]+\/[^/]+\/([^/-][^/-]*)(?:-s(\d+))?(?:-m\d+)?(?:-S\d+)?(?:-C\d+)?--[^/]*\.log$/s;

/**
 * The size of the key whose location log is at `path` on the branch: null
 * for a key without a size (git-annex counts it as 0 bytes), undefined when
 * `path` is not a location log. Only the standard two-level hash layout is
 * recognised (repositories tuned with annex.tune.branchhash1 are not).
 *
 * @example
 * locationLogKeySize("f85/0a5/SHA256E-s5--abc.txt.log") // 5n
 * locationLogKeySize("uuid.log")                        // undefined
 */
export function locationLogKeySize(path: string): bigint | null | undefined {
  const m = LOCATION_LOG.exec(path);
  if (m === null) return undefined;
  return m[2] === undefined ? null : BigInt(m[2]);
}

/**
 * The repositories a location log says have the content, as git-annex's
 * `parseLoggedLocationsWithoutClusters` lists them for size accounting
 * (the newest line per UUID is "present"), leaving out cluster UUIDs:
 * they never hold content themselves, and git-annex never logs them.
 */
export function presentRepos(present: readonly string[]): string[] {
  return present.filter((u) => !isClusterUuid(u));
}
