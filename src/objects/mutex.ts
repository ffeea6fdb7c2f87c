/**
 * One-at-a-time execution per string key, with no memory kept for idle
 * keys: each caller waits for the previous holder's promise.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(name, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
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
    let timer: NodeJS.Timeout | undefined;
    const ours = await Promise.race([
      previous.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    if (!ours) {
      release();
      // The tail settles once the holder is done; until then it stays.
      void tail.then(forget);
      return busy;
    }
    try {
      return await fn();
    } finally {
      release();
      forget();
    }
  }

  /** True while someone holds or waits for `name`. */
  busy(name: string): boolean {
    return this.tails.has(name);
  }
}
