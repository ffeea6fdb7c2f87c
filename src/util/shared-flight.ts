/**
 * One piece of work per key at a time, its promise shared: a caller that
 * asks while the work for its key is in flight gets that work's answer
 * instead of starting it again. Once settled, the next caller starts anew.
 *
 * @example
 * const trees = new SharedFlight<string, Tree>();
 * const tree = await trees.run(sha, () => fetchTree(sha));
 */
export class SharedFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  run(key: K, start: () => Promise<V>): Promise<V> {
    let flight = this.#inFlight.get(key);
    if (flight === undefined) {
      flight = start().finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, flight);
    }
    return flight;
  }
}
