/**
 * What a running sim tells whoever watches it (`sim report`), as it
 * happens. Only real changes of a repository's own content are told, in
 * the order they happen; an action git-annex's step loop takes back is
 * followed by `undo`.
 */
export interface SimObserver {
  /** `to` got its own copy of `key` from `from` (getwanted or sendwanted). */
  transferred(from: number, to: number, key: number): void;
  /** `from` lost its own copy of `key` (dropunwanted). */
  dropped(from: number, key: number): void;
  /** The last transfer or drop is taken back. */
  undo(): void;
  /** `repo` got `key` outside the step loop (add, addmulti, addtree). */
  added(repo: number, key: number): void;
  /** A `step` or `stepstable` command ended: stable after `steps`, or not within `steps`. */
  stepped(stable: boolean, steps: number): void;
}
