/**
 * How much one client address may hold at once: requests in progress, and
 * content locks (lockcontent, kept by keeplocked). Past either cap the
 * client is refused, so no single client can take every slot or pin
 * locks by the thousand. Behind a reverse proxy every client shares the
 * proxy's address: raise the caps there.
 */
export class ClientCounts {
  readonly #counts = new Map<string, number>();

  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }

  /** Count one more for `client`, or false (nothing counted) at the cap. */
  enter(client: string): boolean {
    const n = this.#counts.get(client) ?? 0;
    if (n >= this.#max) return false;
    this.#counts.set(client, n + 1);
    return true;
  }

  leave(client: string): void {
    const n = (this.#counts.get(client) ?? 0) - 1;
    if (n > 0) this.#counts.set(client, n);
    else this.#counts.delete(client);
  }

  /** The sum over every client. */
  total(): number {
    let sum = 0;
    for (const n of this.#counts.values()) sum += n;
    return sum;
  }
}
