/**
 * Which export remotes a push updates (Command/PostReceive.hs
 * `proxyExportTree`): a remote's `annex-tracking-branch` names a branch,
 * optionally with a subdirectory (`master:subdir`,
 * Config.hs `splitRemoteAnnexTrackingBranchSubdir`), and a push of that
 * branch, or of its `synced/` branch (what `git annex sync` and `push`
 * push), exports the branch's tree, or the subdirectory's, to it.
 */

/** One line of post-receive's input: "<old sha> <new sha> <ref>". */
export interface PushedRef {
  readonly oldSha: string;
  readonly newSha: string;
  readonly ref: string;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The refs a post-receive hook was told about; lines that are not three words (two shas and a ref) are skipped. */
export function parseHookInput(text: string): PushedRef[] {
  const refs: PushedRef[] = [];
  for (const line of text.split("\n")) {
    const words = line.split(/[ \t]+/).filter((w) => w !== "");
    if (words.length !== 3) continue;
    const [oldSha, newSha, ref] = words as [string, string, string];
    if (SHA.test(oldSha) && SHA.test(newSha)) refs.push({ oldSha, newSha, ref });
  }
  return refs;
}

/** A remote's tracking branch: the branch, and the subdirectory exported (null: the whole tree). */
export interface TrackingBranch {
  readonly branch: string;
  readonly subdir: string | null;
}

/** git-annex's `base`: a ref without `refs/heads/` or `refs/remotes/`. */
function baseName(ref: string): string {
  for (const prefix of ["refs/heads/", "refs/remotes/"]) {
    if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  }
  return ref;
}

/**
 * `remote.NAME.annex-tracking-branch` split at its first ":" into the
 * branch and the subdirectory; null when unset or empty.
 *
 * @example
 * parseTrackingBranch("master:photos") // { branch: "master", subdir: "photos" }
 */
export function parseTrackingBranch(value: string | undefined): TrackingBranch | null {
  if (value === undefined || value === "") return null;
  const colon = value.indexOf(":");
  if (colon < 0) return { branch: value, subdir: null };
  const subdir = value.slice(colon + 1).replace(/^\/+|\/+$/g, "");
  return { branch: value.slice(0, colon), subdir: subdir === "" ? null : subdir };
}

/** What a push asks to export to one remote. */
export interface PushedExport {
  /** The branch as git-annex then names it: `master`, or `refs/heads/synced/master`. */
  readonly branch: string;
  /** The tree-ish to export: the branch, or `branch:subdir`. */
  readonly treeish: string;
}

/**
 * What a push of `pushed` exports for tracking branch `tb`, or null:
 * the branch itself when it was pushed, else its synced branch
 * (`refs/heads/synced/<branch>`) when that was.
 */
export function pushedExport(
  tb: TrackingBranch,
  pushed: readonly PushedRef[],
): PushedExport | null {
  const refs = new Set(pushed.map((p) => p.ref));
  const base = baseName(tb.branch);
  let branch: string;
  if (refs.has(`refs/heads/${base}`)) branch = base;
  else if (refs.has(`refs/heads/synced/${base}`)) branch = `refs/heads/synced/${base}`;
  else return null;
  return { branch, treeish: tb.subdir === null ? branch : `${branch}:${tb.subdir}` };
}

/**
 * Where a finished export of `branch` is recorded for the remote `remote`
 * (Command/Export.hs `getExportCommit`, Annex/RemoteTrackingBranch.hs):
 * the remote tracking branch `refs/remotes/<remote>/<base>` and the local
 * branch it follows, `refs/heads/<base>`.
 */
export function exportCommitRefs(
  remote: string,
  branch: string,
): { trackingRef: string; localRef: string; base: string } {
  const base = baseName(branch);
  return { trackingRef: `refs/remotes/${remote}/${base}`, localRef: `refs/heads/${base}`, base };
}
