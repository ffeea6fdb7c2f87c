/** What a {@link LengthBudget} saw: exactly the promised bytes, fewer, or more. */
export type LengthOutcome = "exact" | "short" | "long";

/**
 * Counts bytes against a promised length, the check every sender of a
 * DATA frame or a put body makes: each chunk is cut to what is left of
 * the length, and a chunk with more than that marks the data long.
 */
export class LengthBudget {
  #taken = 0;
  #over = false;

  constructor(readonly length: number) {}

  /** The part of `chunk` that still fits (empty once the length is reached); marks the data long when some does not. */
  take(chunk: Buffer): Buffer {
    const room = this.length - this.#taken;
    if (chunk.length <= room) {
      this.#taken += chunk.length;
      return chunk;
    }
    this.#over = true;
    this.#taken = this.length;
    return chunk.subarray(0, room);
  }

  /** Bytes that fitted so far. */
  get passed(): number {
    return this.#taken;
  }

  /** Whether more bytes came than were promised. */
  get long(): boolean {
    return this.#over;
  }

  /** Final once the data has ended. */
  get outcome(): LengthOutcome {
    if (this.#over) return "long";
    return this.#taken === this.length ? "exact" : "short";
  }
}
