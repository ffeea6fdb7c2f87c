/**
 * Holds back the last chunk of a stream of chunks: each new one is kept
 * and the one before it is given back to pass on. Whoever forwards a body
 * whose validity is known only at its end keeps the last bytes here, so
 * that it can still end the body one byte short (the way git-annex tells
 * the far side that content was invalid) or not at all.
 */
export class LastChunk {
  #held: Buffer | null = null;

  /** Keeps `chunk` back and answers the chunk it replaces, to pass on now (null the first time). */
  hold(chunk: Buffer): Buffer | null {
    const before = this.#held;
    this.#held = chunk;
    return before;
  }

  /** Takes the chunk held back (null when there is none). */
  take(): Buffer | null {
    const last = this.#held;
    this.#held = null;
    return last;
  }
}
