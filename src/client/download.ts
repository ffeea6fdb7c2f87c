/**
 * One p2phttp GET as a web stream: the promised length (from
 * X-git-annex-data-length), the bytes counted as they are read, and
 * `valid` once they end: every promised byte came, and, from offset 0 with
 * a hash backend, the content's hash is the key's.
 */
import { type Key, keyHashPart } from "../keys/portable.js";
import { type ApiVersion, DATA_LENGTH_HEADER } from "../protocol/portable.js";
import { ProtocolError } from "./errors.js";
import { hasherFor } from "./hashers.js";
import { readText, refused, type Transport } from "./transport.js";

export interface Download {
  /** The first byte's position in the content. */
  readonly offset: number;
  /** Bytes the body promises. */
  readonly length: number;
  readonly body: ReadableStream<Uint8Array>;
  /** Settles once the body has ended or failed: true when it was whole (and its hash matched). */
  readonly valid: Promise<boolean>;
}

export async function download(
  t: Transport,
  v: ApiVersion,
  key: Key,
  opts: { offset?: number; verify?: boolean; signal?: AbortSignal },
  present: () => Promise<boolean>,
): Promise<Download | null> {
  const offset = opts.offset ?? 0;
  // The slot is given back once the body has been read, or has failed.
  const done = await t.slots.take();
  let res: Response;
  try {
    res = await t.send(v, "key", {
      method: "GET",
      query: offset !== 0 ? { offset } : {},
      keyInPath: key,
      signal: opts.signal,
      timed: false,
    });
  } catch (e) {
    done();
    throw e;
  }
  if (res.status !== 200) {
    const text = await readText(res, opts.signal).finally(done);
    if (res.status === 404) return null;
    throw refused("key", v, res.status, text);
  }
  try {
    return await bodyOf(res, v, key, offset, opts, present, done);
  } catch (e) {
    done();
    throw e;
  }
}

async function bodyOf(
  res: Response,
  v: ApiVersion,
  key: Key,
  offset: number,
  opts: { verify?: boolean; signal?: AbortSignal },
  present: () => Promise<boolean>,
  done: () => void,
): Promise<Download | null> {
  const length = promisedLength(res, v, key, offset);
  // A server without the content answers 200 with nothing (git-annex's
  // p2phttp does): nothing where something was due means absent.
  let emptied = false;
  if (length === 0 && (key.size === undefined || key.size > offset)) {
    await readText(res, opts.signal);
    done();
    if (key.size !== undefined || !(await present())) return null;
    emptied = true;
  }
  const hasher = opts.verify !== false && offset === 0 ? hasherFor(key.backend) : undefined;
  let count = 0;
  let settle: (ok: boolean) => void = () => undefined;
  const valid = new Promise<boolean>((resolve) => {
    settle = (ok) => {
      done();
      resolve(ok);
    };
  });
  const counting = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      count += chunk.length;
      hasher?.update(chunk);
      controller.enqueue(chunk);
    },
    flush() {
      const whole = count === length;
      settle(
        whole && (hasher === undefined || hasher.hexDigest() === keyHashPart(key).toLowerCase()),
      );
    },
  });
  const body = (
    res.body === null || emptied ? new Response(new Uint8Array(0)).body : res.body
  ) as ReadableStream<Uint8Array>;
  // A body that fails or is cancelled never flushes: it was not whole.
  void body.pipeTo(counting.writable).catch(() => settle(false));
  return { offset, length, body: counting.readable, valid };
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
