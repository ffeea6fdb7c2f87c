/** A place in one key's queue: `previous` settles when it is this caller's turn. */
interface Turn {
  readonly previous: Promise<void>;
  /** The holder is done: the next in line goes. */
  end(): void;
  /** Leaving the queue before the turn came. */
  giveUp(): void;
}

/**
 * One-at-a-time execution per string key, within this process: work for
 * one key runs in arrival order, different keys run concurrently. Nothing
 * is kept for an idle key: each caller waits for the previous holder's
 * promise, and the last one out forgets the key.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier caller for `key` is done; a failure passes the turn on too. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const turn = this.#enqueue(key);
    await turn.previous;
    try {
      return await fn();
    } finally {
      turn.end();
    }
  }

  /**
   * Like `run`, but gives up when the holder has not finished within
   * `waitMs`: then `fn` never runs and the result is `busy`. Whoever comes
   * after still waits for that holder.
   */
  async runWithin<T, B>(
    key: string,
    waitMs: number,
    busy: B,
    fn: () => Promise<T>,
  ): Promise<T | B> {
    const turn = this.#enqueue(key);
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

  /** True while someone holds or waits for `key`. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** How many keys are held or waited for now: 0 once everything has finished. */
  held(): number {
    return this.#tails.size;
  }

  /** Resolves once everything queued so far (for every key), and what queues meanwhile, has finished. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }

  #enqueue(key: string): Turn {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    const forget = () => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
    return {
      previous,
      end: () => {
        release();
        forget();
      },
      // The tail stays until the holder is done, so whoever comes next
      // still waits for it.
      giveUp: () => {
        release();
        void tail.then(forget);
      },
    };
  }
}
