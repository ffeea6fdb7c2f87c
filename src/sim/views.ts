/**
 * Each simulated repository's own view of where keys are (Annex/Sim.hs
 * `simLocations` and `simLiveSizeChanges` of its `SimRepoState`), laid
 * out for millions of keys. Like git-annex's map, a view holds a record
 * only for the repositories it has heard of for that key: a record is a
 * repository id and a cell, +c when the repository has the key as of
 * vector clock c, -c when it does not (clocks start at 1, so the sign is
 * free; 0 is no record).
 *
 * A key's records sit side by side, ascending by repository, in SLOTS
 * slots per key (typed arrays over key ids); a key with more records has
 * them in a map instead. So a view costs 26 bytes per key whatever the
 * number of repositories, and the questions preferred content asks of a
 * key (who holds it) read one place in memory. Views are per repository,
 * so memory is about 26 bytes × repositories × keys.
 *
 * Writes can be recorded in an undo log: git-annex's step loop sometimes
 * carries on from the state before an action that did act
 * (see step.ts), so the engine must be able to take one action back.
 */

/** Records a key keeps in its slots; a key with more has them in `overflow`. */
const SLOTS = 4;
/** Repository ids are kept in 16 bits. */
const MAX_REPOS = 0xffff;

interface Records {
  readonly repos: number[];
  readonly cells: number[];
}

/** One repository's view: its records and its live size offsets. */
export class LocationView {
  /** By key id: how many records the key has. */
  counts: Uint16Array;
  /** SLOTS per key: the repository of each record, ascending. */
  repos: Uint16Array;
  /** SLOTS per key: each record's cell. */
  cells: Int32Array;
  /** The records of keys with more than SLOTS, ascending by repository. */
  readonly overflow = new Map<number, Records>();
  /**
   * By repository id: the live size offset git-annex keeps for it in this
   * view (bytes), which is what balanced preferred content sees as its size.
   */
  readonly liveSizes: number[] = [];

  constructor(capacity: number) {
    this.counts = new Uint16Array(capacity);
    this.repos = new Uint16Array(capacity * SLOTS);
    this.cells = new Int32Array(capacity * SLOTS);
  }

  /** Makes room for `capacity` keys. */
  grow(capacity: number): void {
    const counts = new Uint16Array(capacity);
    counts.set(this.counts);
    const repos = new Uint16Array(capacity * SLOTS);
    repos.set(this.repos);
    const cells = new Int32Array(capacity * SLOTS);
    cells.set(this.cells);
    this.counts = counts;
    this.repos = repos;
    this.cells = cells;
  }

  /** `repo`'s cell for `key` (0: no record). */
  cell(repo: number, key: number): number {
    const n = this.counts[key] as number;
    if (n <= SLOTS) {
      const base = key * SLOTS;
      for (let j = 0; j < n; j++) {
        if (this.repos[base + j] === repo) return this.cells[base + j] as number;
      }
      return 0;
    }
    const o = this.overflow.get(key) as Records;
    const i = o.repos.indexOf(repo);
    return i < 0 ? 0 : (o.cells[i] as number);
  }

  /** Calls `fn` with each of `key`'s records, ascending by repository. */
  forEachRecord(key: number, fn: (repo: number, cell: number) => void): void {
    const n = this.counts[key] as number;
    if (n <= SLOTS) {
      const base = key * SLOTS;
      for (let j = 0; j < n; j++)
        fn(this.repos[base + j] as number, this.cells[base + j] as number);
      return;
    }
    const o = this.overflow.get(key) as Records;
    for (let i = 0; i < o.repos.length; i++) fn(o.repos[i] as number, o.cells[i] as number);
  }

  /** Sets `repo`'s cell for `key`; 0 removes the record (only an undo does). */
  put(repo: number, key: number, cell: number): void {
    const n = this.counts[key] as number;
    if (n < SLOTS || (n === SLOTS && this.cell(repo, key) !== 0)) {
      this.#putInline(repo, key, cell, n);
      return;
    }
    const o =
      n <= SLOTS
        ? {
            repos: Array.from(this.repos.subarray(key * SLOTS, key * SLOTS + n)),
            cells: Array.from(this.cells.subarray(key * SLOTS, key * SLOTS + n)),
          }
        : (this.overflow.get(key) as Records);
    let j = 0;
    while (j < o.repos.length && (o.repos[j] as number) < repo) j++;
    if (o.repos[j] === repo) {
      if (cell !== 0) o.cells[j] = cell;
      else {
        o.repos.splice(j, 1);
        o.cells.splice(j, 1);
      }
    } else if (cell !== 0) {
      o.repos.splice(j, 0, repo);
      o.cells.splice(j, 0, cell);
    }
    this.#store(key, o);
  }

  /** put for a key whose records stay in its slots (it has room, or the record is there). */
  #putInline(repo: number, key: number, cell: number, n: number): void {
    const { repos, cells } = this;
    const base = key * SLOTS;
    let j = 0;
    while (j < n && (repos[base + j] as number) < repo) j++;
    if (j < n && repos[base + j] === repo) {
      if (cell !== 0) {
        cells[base + j] = cell;
        return;
      }
      for (let i = base + j; i < base + n - 1; i++) {
        repos[i] = repos[i + 1] as number;
        cells[i] = cells[i + 1] as number;
      }
      this.counts[key] = n - 1;
      return;
    }
    if (cell === 0) return;
    for (let i = base + n; i > base + j; i--) {
      repos[i] = repos[i - 1] as number;
      cells[i] = cells[i - 1] as number;
    }
    repos[base + j] = repo;
    cells[base + j] = cell;
    this.counts[key] = n + 1;
  }

  #store(key: number, o: Records): void {
    const n = o.repos.length;
    this.counts[key] = n;
    if (n > SLOTS) {
      this.overflow.set(key, o);
      return;
    }
    this.overflow.delete(key);
    const base = key * SLOTS;
    for (let j = 0; j < n; j++) {
      this.repos[base + j] = o.repos[j] as number;
      this.cells[base + j] = o.cells[j] as number;
    }
  }
}

export class LocationViews {
  readonly views: LocationView[] = [];
  #capacity = 1024;
  /** Key ids below this may have records. */
  #keys = 0;
  #undo: (() => void)[] | null = null;

  /** Key sizes by key id (bytes), for live size changes. */
  constructor(readonly keySize: (keyId: number) => number) {}

  addView(): LocationView {
    if (this.views.length >= MAX_REPOS) throw new RangeError("too many repositories");
    const v = new LocationView(this.#capacity);
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
    this.#keys = Math.max(this.#keys, keys);
    if (keys <= this.#capacity) return;
    let cap = this.#capacity;
    while (cap < keys) cap *= 2;
    for (const v of this.views) v.grow(cap);
    this.#capacity = cap;
  }

  /** Whether `view` has `repo` holding `key`. */
  has(view: number, repo: number, key: number): boolean {
    const v = this.views[view];
    return v !== undefined && v.cell(repo, key) > 0;
  }

  /** The repositories `view` has holding `key`, ascending by id. */
  holders(view: number, key: number): number[] {
    const out: number[] = [];
    this.view(view).forEachRecord(key, (r, cell) => {
      if (cell > 0) out.push(r);
    });
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
    const old = v.cell(repo, key);
    if (old > 0 !== present) {
      const size = this.keySize(key);
      const before = v.liveSizes[repo] ?? 0;
      v.liveSizes[repo] = before + (present ? size : -size);
      this.record(() => {
        v.liveSizes[repo] = before;
      });
    }
    if (old === 0 || clock > Math.abs(old)) {
      v.put(repo, key, present ? clock : -clock);
      this.record(() => v.put(repo, key, old));
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
    const take = (r: number, k: number, b: number): void => {
      const a = d.cell(r, k);
      if (a !== b && (a === 0 || !(Math.abs(a) > Math.abs(b)))) d.put(r, k, b);
    };
    for (let k = 0; k < this.#keys; k++) {
      const n = s.counts[k] as number;
      if (n === 0) continue;
      if (n > SLOTS) s.forEachRecord(k, (r, b) => take(r, k, b));
      else
        for (let j = k * SLOTS; j < k * SLOTS + n; j++)
          take(s.repos[j] as number, k, s.cells[j] as number);
    }
    this.recountSizes(dest);
  }

  /** Sim.hs `calcLiveSizeChanges`: live sizes as the sum of what the view's records say is present. */
  recountSizes(view: number): void {
    const v = this.view(view);
    const sizes = v.liveSizes;
    sizes.length = 0;
    const add = (r: number, k: number, cell: number): void => {
      if (cell > 0) sizes[r] = (sizes[r] ?? 0) + this.keySize(k);
    };
    // git-annex's map has an entry only for repositories with something present.
    for (let k = 0; k < this.#keys; k++) {
      const n = v.counts[k] as number;
      if (n === 0) continue;
      if (n > SLOTS) v.forEachRecord(k, (r, cell) => add(r, k, cell));
      else
        for (let j = k * SLOTS; j < k * SLOTS + n; j++)
          add(v.repos[j] as number, k, v.cells[j] as number);
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
