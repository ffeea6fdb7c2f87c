/**
 * A counting semaphore for transfer slots: at most `limit` tasks run at
 * once, at most `maxQueued` wait (in order) for a slot, and a waiter whose
 * signal aborts leaves the queue at once, so a client that went away
 * neither holds nor waits for a slot.
 */
export class QueueFullError extends Error {
  constructor(readonly queued: number) {
    super(`${queued} requests are already waiting`);
    this.name = "QueueFullError";
  }
}

interface Waiter {
  readonly grant: () => void;
}

export class Semaphore {
  #active = 0;
  readonly #waiting: Waiter[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueued = Number.POSITIVE_INFINITY,
  ) {}

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Run `task` in a slot. Throws QueueFullError when the queue is full,
   * and the signal's reason when it aborts before a slot is free.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#active >= this.limit) await this.#wait(signal);
    else this.#active++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter (active stays the same).
      if (next) next.grant();
      else this.#active--;
    }
  }

  #wait(signal?: AbortSignal): Promise<void> {
    if (this.#waiting.length >= this.maxQueued) throw new QueueFullError(this.#waiting.length);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#waiting.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
