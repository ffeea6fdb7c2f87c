/**
 * A content lock held over p2phttp: keeplocked is a POST whose streaming
 * body stays open while the lock is held; `{"unlock": true}` ends it, and
 * the server answers once the lock is dropped
 * (design/p2p_protocol_over_http, keeplocked).
 */
import type { ApiVersion } from "../../protocol/index.js";
import { unlockJson } from "../../protocol/index.js";
import { errorText, type Logger } from "../../util/index.js";
import { type ContentLock, type PeerContext, PeerError } from "../peer.js";
import { type HttpClient, readBody, responseOf, statusError } from "./client.js";

export interface KeepLockedOptions {
  readonly client: HttpClient;
  readonly version: ApiVersion;
  readonly lockId: string;
  readonly ctx: PeerContext | undefined;
  /** How often `{"unlock": false}` keeps the connection alive (ms). */
  readonly keepAliveMs: number;
  /** How long a release waits for the server's answer (ms). */
  readonly unlockTimeoutMs: number;
  /** Called once the lock is released (or given up). */
  readonly onReleased: (lock: ContentLock) => void;
  readonly logger?: Logger;
}

/** Start keeplocked for a lock the server granted; resolves once the server holds it for us. */
export async function keepLocked(o: KeepLockedOptions): Promise<ContentLock> {
  const { client, version: v, lockId } = o;
  // The lock outlives the request that took it: the caller's abort is not its end.
  const { signal: _ignored, ...lockCtx } = o.ctx ?? {};
  const creq = client.open(
    v,
    "keeplocked",
    lockCtx,
    {
      method: "POST",
      query: { lockId },
      headers: {
        "content-type": "application/json;charset=utf-8",
        connection: "keep-alive",
        "keep-alive": "timeout=1200",
      },
    },
    client.lockAgent,
  );
  // Settles with null (answered 200: the lock is dropped) or what went wrong.
  const answer: Promise<PeerError | null> = responseOf(creq)
    .then(async (res) => {
      const body = await readBody(res);
      return res.statusCode === 200
        ? null
        : statusError("keeplocked", v, res.statusCode ?? 0, body);
    })
    .catch((e: unknown) => (e instanceof PeerError ? e : client.unreachable("keeplocked", v, e)));
  const write = (line: string) =>
    new Promise<void>((resolve, reject) => creq.write(line, (e) => (e ? reject(e) : resolve())));
  // git-annex's client sends {"unlock": false} first; it also sends the headers.
  const first = write(unlockJson(false)).then(
    () => undefined,
    (e: unknown) => client.unreachable("keeplocked", v, e),
  );
  const early = await Promise.race([first, answer]);
  if (early !== undefined) {
    // Answered (or failed) before the lock was kept: it is not held.
    creq.destroy();
    throw early ?? new PeerError("p2phttp keeplocked ended at once", { operation: "keeplocked" });
  }
  const timer = setInterval(() => {
    if (!creq.destroyed && !creq.writableEnded) creq.write(unlockJson(false));
  }, o.keepAliveMs);
  timer.unref();
  let released: Promise<void> | null = null;
  const lock: ContentLock = {
    keep: () => undefined, // keeplocked already holds it until release
    release: () => {
      released ??= (async () => {
        clearInterval(timer);
        o.onReleased(lock);
        if (!creq.destroyed && !creq.writableEnded) creq.end(unlockJson(true));
        // A server that never answers must not hold up the caller (or close()).
        let waited: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          answer,
          new Promise<PeerError>((resolve) => {
            waited = setTimeout(
              () => resolve(new PeerError("no answer to unlock", { lockId })),
              o.unlockTimeoutMs,
            );
          }),
        ]);
        clearTimeout(waited);
        if (outcome !== null) {
          creq.destroy();
          // The server keeps an unconfirmed lock until its own expiry
          // (10 minutes in git-annex); nothing more can be done here.
          o.logger?.warn({ lockId, err: errorText(outcome) }, "unlock not confirmed");
        }
      })();
      return released;
    },
  };
  return lock;
}
