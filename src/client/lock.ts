/**
 * Holding a lock on content (p2phttp lockcontent, then keeplocked). Where
 * fetch streams request bodies (Node), the lock is held by a keeplocked
 * request whose body sends `{"unlock": false}` now and then and
 * `{"unlock": true}` on release, as git-annex's own client does. In a
 * browser (fetch streams bodies only over HTTP/2) the lock is the server's
 * ten minutes from lockcontent, and release sends the unlock at once.
 */

import type { Key } from "../keys/portable.js";
import { type ApiVersion, parseLockJson, unlockJson, utf8Bytes } from "../protocol/portable.js";
import { ClientError, RefusedError } from "./errors.js";
import type { Transport } from "./transport.js";

export interface ContentLock {
  /** The server's id of the lock. */
  readonly lockId: string;
  /** True when the lock lasts until released; false when it expires ten minutes after it was taken. */
  readonly untilReleased: boolean;
  /**
   * Settles, with the reason, if the lock stops holding before it is
   * released: the server ended the keeplocked request, the connection
   * broke, or (untilReleased false) its ten minutes ran out.
   */
  readonly lost: Promise<Error>;
  /** Unlock now (at most once; later calls wait for the first). */
  release(): Promise<void>;
}

/** How long the server keeps a lock that no keeplocked request holds (git-annex's ten minutes). */
export const LOCK_EXPIRY_MS = 10 * 60 * 1000;

/** Lock `key`'s content on the server: the lock, or null when the server has it not (or would not lock it). */
export async function lockContent(
  t: Transport,
  key: Key,
  opts: { keepAliveMs: number; streamBodies: boolean; signal?: AbortSignal | undefined },
): Promise<ContentLock | null> {
  const answer = await t.json("lockcontent", { key }, parseLockJson, opts.signal);
  if (!answer.locked) return null;
  const v = t.version;
  return opts.streamBodies
    ? heldLock(t, v, answer.lockId, opts.keepAliveMs)
    : expiringLock(t, v, answer.lockId);
}

function keeplockedUrl(t: Transport, v: ApiVersion, lockId: string): string {
  return t.url(v, "keeplocked", { lockId });
}

/** A lock held by a keeplocked request until released. */
function heldLock(t: Transport, v: ApiVersion, lockId: string, keepAliveMs: number): ContentLock {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(utf8Bytes(unlockJson(false)));
    },
  });
  const timer = setInterval(() => controller?.enqueue(utf8Bytes(unlockJson(false))), keepAliveMs);
  let released: Promise<void> | undefined;
  let loseIt: (e: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => {
    loseIt = resolve;
  });
  // The server answers keeplocked only once the lock is dropped: an answer
  // (or a failure) before release means the lock is no longer held.
  const answered = t
    .fetch(keeplockedUrl(t, v, lockId), {
      method: "POST",
      headers: t.headers({ "content-type": "application/json" }),
      body,
      duplex: "half",
      timed: false,
    } as RequestInit & { timed: boolean })
    .then(async (res) => {
      await res.body?.cancel();
      if (released === undefined) {
        return new RefusedError(`keeplocked answered ${res.status} while the lock was held`, {
          status: res.status,
        });
      }
      return null;
    })
    .catch((e: unknown) => (released === undefined ? (e as Error) : null))
    .then((early) => {
      if (early === null) return;
      clearInterval(timer);
      loseIt(early);
    });
  return {
    lockId,
    untilReleased: true,
    lost,
    release() {
      released ??= (async () => {
        clearInterval(timer);
        try {
          controller?.enqueue(utf8Bytes(unlockJson(true)));
          controller?.close();
        } catch {
          // the request has already ended: nothing left to unlock
        }
        await answered;
      })();
      return released;
    },
  };
}

/** A lock that lasts the server's ten minutes, released by one keeplocked request that unlocks. */
function expiringLock(t: Transport, v: ApiVersion, lockId: string): ContentLock {
  let released: Promise<void> | undefined;
  let expiry: ReturnType<typeof setTimeout> | undefined;
  const lost = new Promise<Error>((resolve) => {
    expiry = setTimeout(
      () => resolve(new ClientError("the server's lock expired", { lockId })),
      LOCK_EXPIRY_MS,
    );
    (expiry as { unref?: () => void }).unref?.();
  });
  return {
    lockId,
    untilReleased: false,
    lost,
    release() {
      clearTimeout(expiry);
      released ??= t
        .fetch(keeplockedUrl(t, v, lockId), {
          method: "POST",
          headers: t.headers({ "content-type": "application/json" }),
          body: unlockJson(true),
        })
        .then((res) => res.body?.cancel())
        .catch(() => undefined);
      return released;
    },
  };
}
