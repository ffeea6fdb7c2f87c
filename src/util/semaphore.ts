/**
 * A counting semaphore: at most `limit` tasks run at once, the others wait
 * in arrival order. `maxWaiting` bounds that wait queue for `runUnlessFull`,
 * so a flood of callers is turned away instead of piling up in memory.
 */
export class Semaphore {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
  ) {
    if (!(limit >= 1)) throw new RangeError("a semaphore's limit is at least 1");
  }

  /** Runs `task` when a place is free, however long the queue. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      // The place is handed over by the task that ends (see `leave`).
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      this.leave();
    }
  }

  /** Like `run`, but answers `full` at once (and never runs `task`) when `maxWaiting` already wait. */
  runUnlessFull<T, F>(full: F, task: () => Promise<T>): Promise<T | F> {
    if (this.running >= this.limit && this.queue.length >= this.maxWaiting) {
      return Promise.resolve(full);
    }
    return this.run(task);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Callers waiting for a place now. */
  get waiting(): number {
    return this.queue.length;
  }

  private leave(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
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
