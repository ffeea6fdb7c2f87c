/**
 * Per-repository byte totals and the two ways git-annex changes them
 * (Annex/RepoSize.hs `addKeyRepoSize`, `removeKeyRepoSize`).
 */

/** Repository UUID to the bytes of content the location logs say it has. */
export type RepoSizes = Map<string, bigint>;

/**
 * Accounts for one key whose location log changed from `before` to
 * `after` (present UUIDs): each UUID newly present gains `size` bytes (a
 * UUID not yet in the map enters it, even for a key of unknown size);
 * each UUID no longer present loses them, if it is in the map at all. A
 * UUID in both is untouched, so a line re-recording a copy already
 * counted changes nothing.
 */
export function accountKey(
  sizes: RepoSizes,
  size: bigint | null,
  before: readonly string[],
  after: readonly string[],
): void {
  const n = size ?? 0n;
  const had = new Set(before);
  const has = new Set(after);
  for (const u of has) if (!had.has(u)) sizes.set(u, (sizes.get(u) ?? 0n) + n);
  for (const u of had) {
    if (has.has(u)) continue;
    const old = sizes.get(u);
    if (old !== undefined) sizes.set(u, old - n);
  }
}
