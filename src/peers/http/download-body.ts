/**
 * The body of a p2phttp GET, continued where it broke off. git-annex
 * retries a download that failed after making progress (its forwardRetry);
 * a gateway relaying a node's object to its own client cannot hand that
 * retry back to the client without failing the client's whole request, so
 * it continues the node's body itself: a fresh GET from the first byte it
 * lacks, checked to promise exactly the rest. A body that ends cleanly
 * short of what was promised is the server saying "not valid" and is
 * never continued; only a break-off (a reset, or no progress within the
 * stall timeout) is, whether or not it made progress: git-annex retries
 * only after progress, but a body that stalls before its first byte is the
 * same race below, and the bound on continuations keeps a server that
 * never sends from being asked for ever.
 *
 * Stock git annex p2phttp 10.20250416 needs this: a race in its GET handler
 * leaves about one request in a hundred, on a loaded machine, waiting for
 * ever with all but the last few KiB sent (fixed in git-annex 10.20251114);
 * its next request is served normally.
 */
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Key } from "../../keys/index.js";
import { type ApiVersion, DATA_LENGTH_HEADER } from "../../protocol/index.js";
import type { StallTimer } from "../../util/index.js";
import { type PeerContext, PeerProtocolError } from "../peer.js";
import { type HttpClient, type RetryBudget, readBody, statusError } from "./client.js";

/** How many continuations of one download there are at most, by default. */
export const DEFAULT_CONTINUATIONS = 3;

export interface DownloadBody {
  readonly data: Readable;
  /** True once `data` has ended having delivered exactly `length` bytes. */
  readonly valid: Promise<boolean>;
}

export interface DownloadOptions {
  /** The first response, its headers read. */
  readonly first: IncomingMessage;
  /** The bytes the first response promised. */
  readonly length: number;
  /**
   * A GET for the bytes after the first `done`, promising exactly the
   * rest; `signal` ends it when the reader gives up (or `signal` aborts).
   */
  readonly resume: (done: number, signal: AbortSignal) => Promise<IncomingMessage>;
  /** A stall timer for one response; `breakOff` ends that response. */
  readonly stallTimer: (breakOff: (e: Error) => void) => StallTimer;
  /**
   * Continuations still allowed (with or without progress before each),
   * shared with the GETs re-sent for want of an answer.
   */
  readonly budget: RetryBudget;
  /** Once aborted, a break-off is not continued. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The download's bytes as one stream, with backpressure: a response is read
 * only as fast as `data` is, and the server owes progress only while the
 * reader has room for more.
 */
export function continuedDownload(opts: DownloadOptions): DownloadBody {
  let res = opts.first;
  let count = 0;
  let gaveUp = false;
  const givenUp = new AbortController();
  const resumeSignal = AbortSignal.any([givenUp.signal, ...(opts.signal ? [opts.signal] : [])]);

  async function* body(): AsyncGenerator<Buffer> {
    for (;;) {
      const stall = opts.stallTimer((e) => res.destroy(e));
      try {
        for await (const chunk of timedChunks(res, stall)) {
          count += chunk.length;
          yield chunk;
        }
        return;
      } catch (e) {
        const canContinue =
          !gaveUp && opts.signal?.aborted !== true && count < opts.length && opts.budget.left > 0;
        if (!canContinue) throw e;
        opts.budget.left--;
      } finally {
        stall.stop();
      }
      res = await opts.resume(count, resumeSignal);
    }
  }

  const data = Readable.from(body(), { objectMode: false, highWaterMark: 64 * 1024 });
  // A reader that gives up ends the response, and a continuation under
  // way, when it destroys `data`: not at "close", which waits for the
  // generator to return, and it cannot while it awaits a continuation.
  const destroy = data._destroy.bind(data);
  data._destroy = (err, cb) => {
    gaveUp = true;
    opts.budget.left = 0;
    if (!res.complete) res.destroy();
    givenUp.abort();
    destroy(err, cb);
  };
  const valid = finished(data).then(
    () => count === opts.length,
    () => false,
  );
  return { data, valid };
}

/** The chunks of `res`, the server owing the next one only while it is asked for. */
async function* timedChunks(res: IncomingMessage, stall: StallTimer): AsyncGenerator<Buffer> {
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const waited = stall.begin();
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } finally {
      waited();
    }
    if (next.done === true) return;
    yield next.value;
  }
}

/** The length a GET's answer promises (X-git-annex-data-length; v0 may leave it out). */
export function dataLength(
  res: IncomingMessage,
  version: ApiVersion,
  key: Key,
  offset: number,
): number {
  const header = res.headers[DATA_LENGTH_HEADER];
  if (header !== undefined) {
    const length = Number(header);
    if (!Number.isSafeInteger(length) || length < 0) {
      res.destroy();
      throw new PeerProtocolError("p2phttp GET has a bad data length", {
        header: String(header).slice(0, 100),
        version,
      });
    }
    return length;
  }
  if (version === 0 && key.size !== undefined) return Math.max(0, key.size - offset);
  res.destroy();
  throw new PeerProtocolError("p2phttp GET lacks X-git-annex-data-length", { version });
}

/**
 * The answer to a continuing GET, which must promise exactly the `rest` of
 * the download: content that went away, or changed length, ends it.
 */
export function promisingExactly(
  got: { res: IncomingMessage; length: number } | null,
  rest: number,
  version: ApiVersion,
): IncomingMessage {
  if (got !== null && got.length === rest) return got.res;
  got?.res.destroy();
  throw new PeerProtocolError("p2phttp GET continued with a different length", {
    version,
    promised: got === null ? "not present" : got.length,
    expected: rest,
  });
}

/**
 * A GET of `key` from `offset`: its response and the bytes it promises;
 * null for 404. The answer is owed within `stallMs`; one left unanswered
 * is re-sent as `budget` allows (stock's GET race above can leave it so).
 */
export async function getKey(
  client: HttpClient,
  version: ApiVersion,
  key: Key,
  offset: number,
  ctx: PeerContext | undefined,
  budget: RetryBudget,
  stallMs: number,
): Promise<{ res: IncomingMessage; length: number } | null> {
  const res = await client.exchange(version, "key", ctx, {
    method: "GET",
    query: offset !== 0 ? { offset } : {},
    keyInPath: key,
    answerTimeoutMs: stallMs,
    retryBudget: budget,
  });
  if (res.statusCode !== 200) {
    const body = await readBody(res);
    if (res.statusCode === 404) return null;
    throw statusError("key", version, res.statusCode ?? 0, body);
  }
  return { res, length: dataLength(res, version, key, offset) };
}
