/**
 * One p2phttp GET as a web stream: the promised length (from
 * X-git-annex-data-length), the bytes counted as they are read, and
 * `valid` once they end: every promised byte came, and, from offset 0 with
 * a hash backend, the content's hash is the key's.
 *
 * A body that breaks off, or makes no progress for the stall timeout while
 * it is being read, is continued (a few times) by a fresh GET from the
 * first byte still missing, which must promise exactly the rest, whether
 * or not the body made progress first (the bound keeps a server that never
 * sends from being asked for ever); a body that ends cleanly short is the
 * server saying "not valid" and is not.
 * Stock git annex p2phttp 10.20250416 needs this: about one GET in a
 * hundred on a loaded machine stops a few KiB short and is never finished.
 */
import { type Key, keyHashPart } from "../keys/portable.js";
import { type ApiVersion, DATA_LENGTH_HEADER } from "../protocol/portable.js";
import { ProtocolError, UnreachableError } from "./errors.js";
import { hasherFor } from "./hashers.js";
import { anySignal } from "./signals.js";
import { readText, refused, type Transport } from "./transport.js";

export interface Download {
  /** The first byte's position in the content. */
  readonly offset: number;
  /** Bytes the body promises. */
  readonly length: number;
  /** The content; read it to its end or cancel it (it holds one of the client's request slots). */
  readonly body: ReadableStream<Uint8Array>;
  /** Settles once the body has ended or failed: true when it was whole (and its hash matched). */
  readonly valid: Promise<boolean>;
}

export interface DownloadOptions {
  readonly offset?: number | undefined;
  readonly verify?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  /** No progress for this long while the body is read breaks it off (ms). */
  readonly stallTimeoutMs: number;
  /** Further GETs of one download (continuations, or re-sent for want of an answer), at most. */
  readonly continuations: number;
}

/** One GET's response: its body, what it promises, and how to break it off. */
interface Part {
  readonly res: Response;
  readonly length: number;
  readonly stop: AbortController;
}

/** Further GETs one download may still make (see HttpPeer's RetryBudget, the same rule). */
interface Budget {
  /** Of any kind: continuations and re-sends. */
  left: number;
  /** Of those, re-sends of a GET left unanswered: once, so a server that never answers costs two stall timeouts, not four. */
  resends: number;
}

/**
 * A GET from `offset`; one whose answer does not begin within the stall
 * timeout is sent again while the budget allows (stock p2phttp 10.20250416
 * can leave a GET unanswered for ever; asked again, it answers).
 */
async function getFrom(
  g: Getting,
  offset: number,
  signal: AbortSignal | undefined,
  budget: Budget,
): Promise<Part | null> {
  for (;;) {
    try {
      return await getOnce(g, offset, signal);
    } catch (e) {
      const unanswered = e instanceof UnreachableError && e.data.unanswered === true;
      if (!unanswered || budget.left <= 0 || budget.resends <= 0 || signal?.aborted === true) {
        throw e;
      }
      budget.left--;
      budget.resends--;
    }
  }
}

/** What every GET of one download shares. */
interface Getting {
  readonly t: Transport;
  readonly v: ApiVersion;
  readonly key: Key;
  /** The answer, and then each chunk of its body, is owed within this (ms). */
  readonly stallMs: number;
}

async function getOnce(
  { t, v, key, stallMs }: Getting,
  offset: number,
  signal: AbortSignal | undefined,
): Promise<Part | null> {
  const stop = new AbortController();
  // The answer's headers are owed within the stall timeout too.
  const res = await within(
    t.send(v, "key", {
      method: "GET",
      query: offset !== 0 ? { offset } : {},
      keyInPath: key,
      signal: anySignal([signal, stop.signal]),
      timed: false,
    }),
    stallMs,
    () => stop.abort(),
    "no answer",
  );
  if (res.status !== 200) {
    const text = await readText(res, signal);
    if (res.status === 404) return null;
    throw refused("key", v, res.status, text);
  }
  return { res, length: promisedLength(res, v, key, offset), stop };
}

export async function download(
  t: Transport,
  v: ApiVersion,
  key: Key,
  opts: DownloadOptions,
  present: () => Promise<boolean>,
): Promise<Download | null> {
  const offset = opts.offset ?? 0;
  // The slot is given back once the body has been read, or has failed.
  const done = await t.slots.take(opts.signal);
  const g: Getting = { t, v, key, stallMs: opts.stallTimeoutMs };
  // Every further GET of this download, re-sent or continuing, is counted.
  const budget: Budget = { left: opts.continuations, resends: Math.min(1, opts.continuations) };
  let first: Part | null;
  try {
    first = await getFrom(g, offset, opts.signal, budget);
    // A server without the content answers 200 with nothing (git-annex's
    // p2phttp does): nothing where something was due means absent.
    if (first !== null && first.length === 0 && (key.size ?? offset + 1) > offset) {
      await readText(first.res, opts.signal);
      done();
      if (key.size !== undefined || !(await present())) return null;
      first = { ...first, res: new Response(new Uint8Array(0)) };
    }
  } catch (e) {
    done();
    throw e;
  }
  if (first === null) {
    done();
    return null;
  }
  return continued(g, offset, first, { ...opts, budget }, done);
}

// Over 80 lines: one closure over a download's state (part, reader, counts), which splitting would pass around
function continued(
  g: Getting,
  offset: number,
  first: Part,
  opts: DownloadOptions & { readonly budget: Budget },
  done: () => void,
): Download {
  const { key } = g;
  const length = first.length;
  const hasher = opts.verify !== false && offset === 0 ? hasherFor(key.backend) : undefined;
  let part = first;
  let reader = bodyReader(part.res);
  let count = 0;
  let cancelled = false;
  // Ends a continuation under way when the reader cancels.
  const gaveUp = new AbortController();
  const signal = anySignal([opts.signal, gaveUp.signal]);
  let settle: (ok: boolean) => void = () => undefined;
  const valid = new Promise<boolean>((resolve) => {
    settle = (ok) => {
      done();
      resolve(ok);
    };
  });
  /** The next part after a break-off: null when there is none to be had (the error is given). */
  const nextPart = async (
    e: unknown,
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<boolean> => {
    const canContinue = opts.signal?.aborted !== true && count < length && opts.budget.left > 0;
    let more: Part | null = null;
    let failed: unknown = e;
    if (canContinue) {
      opts.budget.left--;
      try {
        more = await getFrom(g, offset + count, signal, opts.budget);
        if (more?.length !== length - count) {
          failed = new ProtocolError("p2phttp GET continued with a different length", {});
        }
      } catch (again) {
        failed = again;
      }
    }
    if (cancelled || more === null || more.length !== length - count) {
      more?.stop.abort();
      if (!cancelled) {
        settle(false);
        controller.error(failed);
      }
      return false;
    }
    part.stop.abort();
    part = more;
    reader = bodyReader(part.res);
    return true;
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          try {
            const next = await within(reader.read(), opts.stallTimeoutMs, () => part.stop.abort());
            if (next.done) {
              const hashed =
                hasher === undefined || hasher.hexDigest() === keyHashPart(key).toLowerCase();
              settle(count === length && hashed);
              controller.close();
              return;
            }
            count += next.value.length;
            hasher?.update(next.value);
            controller.enqueue(next.value);
            return;
          } catch (e) {
            if (cancelled || !(await nextPart(e, controller))) return;
          }
        }
      },
      cancel() {
        cancelled = true;
        opts.budget.left = 0;
        part.stop.abort();
        gaveUp.abort();
        settle(false);
      },
    },
    { highWaterMark: 0 },
  );
  return { offset, length, body, valid };
}

function bodyReader(res: Response): ReadableStreamDefaultReader<Uint8Array> {
  return (res.body ??
    new Response(new Uint8Array(0)).body)!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
}

/**
 * What `p` gives, or an UnreachableError once `ms` pass first (then
 * `breakOff`, whose own abort error `p` would otherwise win the race
 * with); `waiting` for an answer's start marks the error `unanswered`.
 */
async function within<T>(
  p: Promise<T>,
  ms: number,
  breakOff: () => void,
  waiting: "no answer" | "no progress" = "no progress",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const data = { ms, ...(waiting === "no answer" ? { unanswered: true } : {}) };
      reject(new UnreachableError(`p2phttp GET: ${waiting} for ${ms} ms`, data));
      breakOff();
    }, ms);
  });
  try {
    return await Promise.race([p, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function promisedLength(res: Response, v: ApiVersion, key: Key, offset: number): number {
  const header = res.headers.get(DATA_LENGTH_HEADER);
  if (header !== null) {
    const length = Number(header);
    if (!Number.isSafeInteger(length) || length < 0 || header.trim() === "") {
      void res.body?.cancel();
      throw new ProtocolError("p2phttp GET has a bad data length", {
        header: header.slice(0, 100),
      });
    }
    return length;
  }
  if (v === 0 && key.size !== undefined) return Math.max(0, key.size - offset);
  void res.body?.cancel();
  throw new ProtocolError("p2phttp GET lacks X-git-annex-data-length", { version: v });
}
