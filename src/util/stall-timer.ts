/**
 * A no-progress timer for a transfer with another party: it runs only while
 * that party owes us something (an answer, room to write, the next bytes a
 * reader asked for), and every sign of progress restarts it. Time spent
 * waiting on our own side (a slow source, a reader that stopped reading)
 * is never counted against the other party.
 *
 * @example
 * const stall = new StallTimer(60_000, () => socket.destroy(new Error("stalled")));
 * const done = stall.begin(); // now waiting on the far side
 * socket.on("data", () => stall.progress());
 * done(); // no longer waiting
 */
export class StallTimer {
  readonly #ms: number;
  readonly #onStall: () => void;
  #waits = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #fired = false;

  constructor(ms: number, onStall: () => void) {
    if (!(ms > 0)) throw new RangeError("a stall timeout is more than 0 ms");
    this.#ms = ms;
    this.#onStall = onStall;
  }

  /** How long the other party may make no progress (ms). */
  get ms(): number {
    return this.#ms;
  }

  /** True once the timer has fired. */
  get stalled(): boolean {
    return this.#fired;
  }

  /** Start waiting on the other party; the returned function ends this wait (once). */
  begin(): () => void {
    if (this.#stopped) return () => undefined;
    this.#waits++;
    if (this.#waits === 1) this.#arm();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#waits--;
      if (this.#waits === 0) this.#disarm();
    };
  }

  /** The other party moved: the time it may take starts again. */
  progress(): void {
    if (this.#waits > 0 && !this.#stopped) this.#arm();
  }

  /** Never fire (the transfer is over). */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #arm(): void {
    this.#disarm();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#stopped = true;
      this.#fired = true;
      this.#onStall();
    }, this.#ms);
    // A stalled transfer alone must not keep a process alive.
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
