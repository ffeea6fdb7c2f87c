import type { Readable, Writable } from "node:stream";

/**
 * A source that can write itself into a Writable better than a pipe can
 * (an object file reusing a few buffers, src/objects/object-stream.ts),
 * while staying an ordinary Readable for every other reader. A server
 * that meets one sends it that way; anything else gets the pipe.
 */
export interface SendsItself {
  /** True while nothing has read from the stream: only then may it send itself. */
  readonly untouched: boolean;
  /**
   * Writes the rest of the content into `out` (not ending it), then ends
   * the stream itself so that whoever watches it sees it end. `valid` is
   * awaited before the last chunk: content found not valid at its end is
   * sent one byte short, as git-annex does. Rejects (the stream destroyed)
   * when `out` closes first or the content cannot be read.
   */
  sendInto(out: Writable, valid: Promise<boolean>): Promise<void>;
}

export function sendsItself(s: Readable): s is Readable & SendsItself {
  const candidate = s as Partial<SendsItself>;
  return typeof candidate.sendInto === "function" && candidate.untouched === true;
}
