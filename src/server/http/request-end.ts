/**
 * When a request ends early. Watched from the first moment the request is
 * seen, before any await: a listener attached after an asynchronous step
 * would miss a connection that closed during it, and whatever that
 * request then took (a transfer slot, a key's turn, a file, a content
 * lock) would be held for good.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export class ClientGoneError extends Error {
  constructor() {
    super("the client went away");
    this.name = "ClientGoneError";
  }
}

export interface RequestEnd {
  /** Aborts when the connection ends before the response was sent. */
  readonly signal: AbortSignal;
  /** Settles once the response is done, sent or not. */
  readonly done: Promise<void>;
  /** Throws ClientGoneError once the signal has aborted (call after each await). */
  check(): void;
}

export function watchRequestEnd(req: IncomingMessage, res: ServerResponse): RequestEnd {
  const controller = new AbortController();
  const abort = () => {
    if (!res.writableFinished && !controller.signal.aborted)
      controller.abort(new ClientGoneError());
  };
  // The request body breaking off (reset, or a clean close mid-body) ends
  // the request as surely as the response being cut. A body that all
  // arrived and was then dropped by the server (too long) is not that.
  // Both streams emit 'close' once, however they end (plain listeners, not
  // stream.finished(): this runs for every request).
  req.once("close", () => {
    if (!req.complete) abort();
  });
  const done = new Promise<void>((resolve) => {
    res.once("close", () => {
      abort();
      resolve();
    });
  });
  if (req.socket.destroyed) abort();
  return {
    signal: controller.signal,
    done,
    check: () => {
      if (controller.signal.aborted) throw new ClientGoneError();
    },
  };
}
