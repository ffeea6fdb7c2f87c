import { countKeyLock } from "./lock-counts.js";

/**
 * One-at-a-time execution per string key, with no memory kept for idle
 * keys: each caller waits for the previous holder's promise.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const turn = this.#enqueue(name);
    await turn.previous;
    try {
      return await fn();
    } finally {
      turn.end();
    }
  }

  /** Joins the queue for `name`: `previous` settles when it is this caller's turn. */
  #enqueue(name: string): { previous: Promise<void>; end(): void; giveUp(): void } {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    const forget = () => {
      if (this.tails.get(name) === tail) this.tails.delete(name);
    };
    countKeyLock(1);
    let counted = true;
    const uncount = () => {
      if (counted) countKeyLock(-1);
      counted = false;
    };
    return {
      previous,
      end: () => {
        uncount();
        release();
        forget();
      },
      // Leaving the queue early: the tail stays until the holder is done,
      // so whoever comes next still waits for it.
      giveUp: () => {
        uncount();
        release();
        void tail.then(forget);
      },
    };
  }

  /**
   * Like `run`, but gives up when the holder has not finished within
   * `waitMs`: then `fn` never runs and the result is `busy`. Whoever comes
   * after still waits for that holder.
   */
  async runWithin<T, B>(
    name: string,
    waitMs: number,
    busy: B,
    fn: () => Promise<T>,
  ): Promise<T | B> {
    const turn = this.#enqueue(name);
    let timer: NodeJS.Timeout | undefined;
    const ours = await Promise.race([
      turn.previous.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (!ours) {
      turn.giveUp();
      return busy;
    }
    try {
      return await fn();
    } finally {
      turn.end();
    }
  }

  /** True while someone holds or waits for `name`. */
  busy(name: string): boolean {
    return this.tails.has(name);
  }
}
