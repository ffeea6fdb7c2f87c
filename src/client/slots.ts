/**
 * A bound on the requests in flight to one server. Stock git annex p2phttp
 * serves a few at a time (its --jobs) and stalls when many more arrive at
 * once, so the client keeps its own bound; a request waits here, not in the
 * server.
 */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  /** Wait for a slot; the function returned gives it back (once). */
  async take(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    };
  }
}
