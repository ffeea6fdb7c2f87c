/**
 * A cache bounded by the total weight of what it keeps, in two
 * generations: a value found is moved to the young one; when the young one
 * holds half the budget, the old one is dropped. About LRU, without
 * reordering a map at every hit. For values that never go stale (things
 * named by their content): nothing here expires.
 *
 * @example
 * const trees = new GenerationalCache<string, Tree>(100_000, (t) => t.size);
 * const tree = trees.get(sha) ?? trees.set(sha, await fetchTree(sha));
 */
export class GenerationalCache<K, V> {
  readonly #budget: number;
  readonly #weigh: (value: V) => number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  #youngWeight = 0;

  /** `budget`: the most weight kept, over both generations (about). */
  constructor(budget: number, weigh: (value: V) => number) {
    this.#budget = budget;
    this.#weigh = weigh;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.set(key, old);
    }
    return old;
  }

  /** Keeps `value` (in the young generation), and returns it. */
  set(key: K, value: V): V {
    if (this.#youngWeight >= this.#budget / 2) {
      this.#old = this.#young;
      this.#young = new Map();
      this.#youngWeight = 0;
    }
    const before = this.#young.get(key);
    if (before !== undefined) this.#youngWeight -= this.#weigh(before);
    this.#young.set(key, value);
    this.#youngWeight += this.#weigh(value);
    return value;
  }
}
