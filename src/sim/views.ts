/**
 * Each simulated repository's own view of where keys are (Annex/Sim.hs
 * `simLocations` and `simLiveSizeChanges` of its `SimRepoState`), laid
 * out for hundreds of thousands of keys: for every view and every
 * repository it has heard of, one Int32Array over key ids. A cell is 0
 * when the view has no record, +c when the repository has the key as of
 * vector clock c, -c when it does not (clocks start at 1, so the sign is
 * free). A view only allocates columns for repositories it has records
 * of, so memory is keys × (repositories each view knows) × 4 bytes.
 *
 * Writes can be recorded in an undo log: git-annex's step loop sometimes
 * carries on from the state before an action that did act
 * (see step.ts), so the engine must be able to take one action back.
 */

/** One repository's view: its columns and its live size offsets. */
export class LocationView {
  /** By repository id: clock cells by key id, or undefined when no record. */
  readonly columns: (Int32Array | undefined)[] = [];
  /**
   * By repository id: the live size offset git-annex keeps for it in this
   * view (bytes), which is what balanced preferred content sees as its size.
   */
  readonly liveSizes: number[] = [];
}

export class LocationViews {
  readonly views: LocationView[] = [];
  #capacity = 1024;
  #undo: (() => void)[] | null = null;

  /** Key sizes by key id (bytes), for live size changes. */
  constructor(readonly keySize: (keyId: number) => number) {}

  addView(): LocationView {
    const v = new LocationView();
    this.views.push(v);
    return v;
  }

  view(repo: number): LocationView {
    const v = this.views[repo];
    if (v === undefined) throw new RangeError(`no view for repository ${repo}`);
    return v;
  }

  /** Makes room for key ids below `keys`. */
  ensureKeys(keys: number): void {
    if (keys <= this.#capacity) return;
    let cap = this.#capacity;
    while (cap < keys) cap *= 2;
    for (const v of this.views) {
      for (let r = 0; r < v.columns.length; r++) {
        const old = v.columns[r];
        if (old === undefined) continue;
        const grown = new Int32Array(cap);
        grown.set(old);
        v.columns[r] = grown;
      }
    }
    this.#capacity = cap;
  }

  #column(v: LocationView, repo: number): Int32Array {
    let col = v.columns[repo];
    if (col === undefined) {
      col = new Int32Array(this.#capacity);
      while (v.columns.length < repo) v.columns.push(undefined);
      v.columns[repo] = col;
    }
    return col;
  }

  /** Whether `view` has `repo` holding `key`. */
  has(view: number, repo: number, key: number): boolean {
    const col = this.views[view]?.columns[repo];
    return col !== undefined && (col[key] ?? 0) > 0;
  }

  /** The repositories `view` has holding `key`, ascending by id. */
  holders(view: number, key: number): number[] {
    const out: number[] = [];
    const cols = this.view(view).columns;
    for (let r = 0; r < cols.length; r++) if ((cols[r]?.[key] ?? 0) > 0) out.push(r);
    return out;
  }

  /**
   * Sim.hs `setPresentKey'`: records in `view` that `repo` has (or has
   * not) `key` as of `clock`; an older or equally old record is kept. The
   * live size offset moves whenever the view thought otherwise, even when
   * the record is kept, as git-annex's `rememberLiveSizeChanges` does.
   */
  setPresent(view: number, repo: number, key: number, present: boolean, clock: number): void {
    const v = this.view(view);
    const col = this.#column(v, repo);
    const old = col[key] ?? 0;
    if (old > 0 !== present) {
      const size = this.keySize(key);
      const before = v.liveSizes[repo] ?? 0;
      v.liveSizes[repo] = before + (present ? size : -size);
      this.record(() => {
        v.liveSizes[repo] = before;
      });
    }
    if (old === 0 || clock > Math.abs(old)) {
      col[key] = present ? clock : -clock;
      this.record(() => {
        col[key] = old;
      });
    }
  }

  /**
   * Sim.hs `simulateGitAnnexMerge'`: `dest` takes every record of `src`
   * that is newer than its own (or that it lacks; on equal clocks the
   * source's), then recounts its live sizes from its records.
   */
  merge(src: number, dest: number): void {
    const s = this.view(src);
    const d = this.view(dest);
    for (let r = 0; r < s.columns.length; r++) {
      const from = s.columns[r];
      if (from === undefined) continue;
      const to = this.#column(d, r);
      for (let k = 0; k < from.length; k++) {
        const b = from[k] as number;
        if (b === 0) continue;
        const a = to[k] as number;
        if (a === 0 || !(Math.abs(a) > Math.abs(b))) to[k] = b;
      }
    }
    this.recountSizes(dest);
  }

  /** Sim.hs `calcLiveSizeChanges`: live sizes as the sum of what the view's records say is present. */
  recountSizes(view: number): void {
    const v = this.view(view);
    v.liveSizes.length = 0;
    for (let r = 0; r < v.columns.length; r++) {
      const col = v.columns[r];
      if (col === undefined) continue;
      let sum = 0;
      let any = false;
      for (let k = 0; k < col.length; k++) {
        if ((col[k] as number) > 0) {
          sum += this.keySize(k);
          any = true;
        }
      }
      // git-annex's map has an entry only for repositories with something present.
      if (any) v.liveSizes[r] = sum;
    }
  }

  /** Starts (or restarts) recording undo steps for the writes that follow. */
  beginUndo(): void {
    if (this.#undo === null) this.#undo = [];
    else this.#undo.length = 0;
  }

  /** Takes back every write since beginUndo, newest first, and stops recording. */
  rollback(): void {
    const log = this.#undo ?? [];
    for (let i = log.length - 1; i >= 0; i--) (log[i] as () => void)();
    this.#undo = null;
  }

  /** Stops recording, keeping the writes. */
  endUndo(): void {
    this.#undo = null;
  }

  /** Records how to take back a write made outside this class (history), when recording. */
  record(undo: () => void): void {
    this.#undo?.push(undo);
  }
}
