/**
 * A bound on the requests in flight to one server. Stock git annex p2phttp
 * serves a few at a time (its --jobs) and stalls when many more arrive at
 * once, so the client keeps its own bound; a request waits here, not in the
 * server.
 */
import { AbortedError } from "./errors.js";

export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  /** Wait for a slot (AbortedError once `signal` aborts); the function returned gives it back (once). */
  async take(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted === true) throw new AbortedError("aborted while waiting to send", {});
    if (this.#free > 0) this.#free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.#waiting.indexOf(go);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(new AbortedError("aborted while waiting to send", {}));
        };
        const go = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        this.#waiting.push(go);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
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
