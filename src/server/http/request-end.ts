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
  /** The connection ended before the response was sent. */
  readonly aborted: boolean;
  /** Settles once the response is done, sent or not. */
  readonly done: Promise<void>;
  /** Throws ClientGoneError once the request has ended early (call after each await). */
  check(): void;
}

/*
 * The AbortController is made only when something asks for the signal: it
 * costs more than the rest of this watch (about 7 µs a request), and a
 * short request (checkpresent) never needs it.
 */
class WatchedEnd implements RequestEnd {
  readonly done: Promise<void>;
  #aborted = false;
  #controller: AbortController | undefined;
  readonly #res: ServerResponse;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.#res = res;
    // The request body breaking off (reset, or a clean close mid-body) ends
    // the request as surely as the response being cut. A body that all
    // arrived and was then dropped by the server (too long) is not that.
    // Both streams emit 'close' once, however they end (plain listeners,
    // not stream.finished(): this runs for every request).
    req.once("close", () => {
      if (!req.complete) this.#abort();
    });
    this.done = new Promise<void>((resolve) => {
      res.once("close", () => {
        this.#abort();
        resolve();
      });
    });
    if (req.socket.destroyed) this.#abort();
  }

  #abort(): void {
    if (this.#res.writableFinished || this.#aborted) return;
    this.#aborted = true;
    this.#controller?.abort(new ClientGoneError());
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(new ClientGoneError());
    }
    return this.#controller.signal;
  }

  check(): void {
    if (this.#aborted) throw new ClientGoneError();
  }
}

export function watchRequestEnd(req: IncomingMessage, res: ServerResponse): RequestEnd {
  return new WatchedEnd(req, res);
}
