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
import type { Transport } from "./transport.js";

export interface ContentLock {
  /** The server's id of the lock. */
  readonly lockId: string;
  /** True when the lock lasts until released; false when it expires ten minutes after it was taken. */
  readonly untilReleased: boolean;
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
  const answered = t
    .fetch(keeplockedUrl(t, v, lockId), {
      method: "POST",
      headers: t.headers({ "content-type": "application/json" }),
      body,
      duplex: "half",
      timed: false,
    } as RequestInit & { timed: boolean })
    .then((res) => res.body?.cancel())
    .catch(() => undefined);
  let released: Promise<void> | undefined;
  return {
    lockId,
    untilReleased: true,
    release() {
      released ??= (async () => {
        clearInterval(timer);
        controller?.enqueue(utf8Bytes(unlockJson(true)));
        controller?.close();
        await answered;
      })();
      return released;
    },
  };
}

/** A lock that lasts the server's ten minutes, released by one keeplocked request that unlocks. */
function expiringLock(t: Transport, v: ApiVersion, lockId: string): ContentLock {
  let released: Promise<void> | undefined;
  return {
    lockId,
    untilReleased: false,
    release() {
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
