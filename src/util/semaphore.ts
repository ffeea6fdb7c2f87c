/** A bounded semaphore's wait queue was full: the caller was turned away. */
export class QueueFullError extends Error {
  constructor(readonly queued: number) {
    super(`${queued} requests are already waiting`);
    this.name = "QueueFullError";
  }
}

interface Waiter {
  readonly grant: () => void;
}

/**
 * A counting semaphore: at most `limit` tasks run at once, the others wait
 * in arrival order. `maxWaiting` bounds that wait queue, so a flood of
 * callers is turned away instead of piling up in memory; a waiter whose
 * signal aborts leaves the queue at once, so a caller that went away
 * neither holds nor waits for a place.
 */
export class Semaphore {
  #running = 0;
  readonly #queue: Waiter[] = [];
  readonly #limit: number;
  readonly #maxWaiting: number;

  constructor(limit: number, maxWaiting = Number.POSITIVE_INFINITY) {
    if (!(limit >= 1)) throw new RangeError("a semaphore's limit is at least 1");
    this.#limit = limit;
    this.#maxWaiting = maxWaiting;
  }

  /**
   * Runs `task` when a place is free. Throws QueueFullError when
   * `maxWaiting` callers already wait, and the signal's reason when it
   * aborts before a place is free.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#running >= this.#limit) {
      // The place is handed over by the task that ends (see `#leave`).
      await this.#wait(signal);
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      this.#leave();
    }
  }

  /** Tasks running now. */
  get active(): number {
    return this.#running;
  }

  /** Callers waiting for a place now. */
  get waiting(): number {
    return this.#queue.length;
  }

  #wait(signal?: AbortSignal): Promise<void> {
    if (this.#queue.length >= this.#maxWaiting) throw new QueueFullError(this.#queue.length);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #leave(): void {
    const next = this.#queue.shift();
    // The place passes straight to the next waiter (running stays the same).
    if (next) next.grant();
    else this.#running--;
  }
}

/**
 * Runs `f` on every item, at most `limit` at once, and answers each
 * item's result in the items' order; a failure is that item's Error and
 * does not stop the others.
 */
export async function forEachBounded<I, T>(
  items: readonly I[],
  limit: number,
  f: (item: I, index: number) => Promise<T>,
): Promise<(T | Error)[]> {
  const results: (T | Error)[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await f(items[i] as I, i);
      } catch (e) {
        results[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  };
  const workers = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
