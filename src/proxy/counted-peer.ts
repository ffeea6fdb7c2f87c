/**
 * A remote's Peer as the gateway uses it: each call is a use of the
 * remote's shared connection (see connections.ts), and is told to the
 * observer (how it ended, how long it took, what it moved) and to the log
 * (one debug line per call, with the request's id).
 */
import { finished } from "node:stream";
import type { Key } from "../keys/index.js";
import type {
  ContentLock,
  LockResult,
  Peer,
  PeerContext,
  RetrieveResult,
  StoreRequest,
} from "../peers/index.js";
import type { Logger } from "../util/index.js";
import type { Use } from "./connections.js";
import {
  type NodeLabel,
  type NodeObserver,
  type NodeOperation,
  type NodeOutcome,
  outcomeOfError,
} from "./node-observer.js";

/**
 * A remote's Peer whose every call counts as a use of its connection, and
 * is told to the observer (how it ended, how long it took, what it moved).
 */
export class CountedPeer implements Peer {
  readonly uuid: string;
  readonly #acquire: () => Use;
  readonly #node: NodeLabel;
  readonly #observer: NodeObserver | undefined;
  readonly #logger: Logger | undefined;

  constructor(
    node: NodeLabel,
    acquire: () => Use,
    watch: { readonly observer?: NodeObserver; readonly logger?: Logger },
  ) {
    this.uuid = node.uuid;
    this.#node = node;
    this.#acquire = acquire;
    this.#observer = watch.observer;
    this.#logger = watch.logger;
  }

  /** A call begins: what to do when it ends (tell the observer, and the log at debug). */
  #begin(op: NodeOperation, ctx: PeerContext | undefined): (outcome: NodeOutcome) => void {
    const started = performance.now();
    return (outcome) => {
      const seconds = (performance.now() - started) / 1000;
      try {
        this.#observer?.nodeCall(this.#node, op, outcome, seconds);
      } catch {
        // metrics are not worth a failed transfer
      }
      this.#logger?.debug(
        {
          reqId: ctx?.requestId,
          node: this.#node.name,
          nodeUuid: this.#node.uuid,
          op,
          outcome,
          ms: Math.round(seconds * 10000) / 10,
        },
        "node call",
      );
    };
  }

  #moved(direction: "in" | "out", bytes: number): void {
    try {
      this.#observer?.nodeBytes(this.#node, direction, bytes);
    } catch {
      // as above
    }
  }

  async #call<T>(
    op: NodeOperation,
    ctx: PeerContext | undefined,
    f: (peer: Peer) => Promise<T>,
    outcomeOf: (r: T) => NodeOutcome = () => "ok",
  ): Promise<T> {
    const use = this.#acquire();
    const ended = this.#begin(op, ctx);
    let r: T;
    try {
      r = await f(await use.peer);
    } catch (e) {
      ended(outcomeOfError(e));
      throw e;
    } finally {
      use.done();
    }
    ended(outcomeOf(r));
    return r;
  }

  checkPresent: Peer["checkPresent"] = (key, ctx) =>
    this.#call("checkPresent", ctx, (p) => p.checkPresent(key, ctx));
  remove: Peer["remove"] = (key, opts, ctx) =>
    this.#call("remove", ctx, (p) => p.remove(key, opts, ctx));
  getTimestamp: Peer["getTimestamp"] = (ctx) =>
    this.#call("getTimestamp", ctx, (p) => p.getTimestamp(ctx));
  putOffset: Peer["putOffset"] = (key, ctx) =>
    this.#call("putOffset", ctx, (p) => p.putOffset(key, ctx));
  store: Peer["store"] = (req: StoreRequest, ctx?: PeerContext) =>
    this.#call(
      "store",
      ctx,
      (p) => p.store(req, ctx),
      (r) => {
        if (!r.stored) return "not_stored";
        this.#moved("out", req.length);
        return "ok";
      },
    );
  storePresent: Peer["storePresent"] = (key, ctx) =>
    this.#call(
      "storePresent",
      ctx,
      (p) => p.storePresent(key, ctx),
      (r) => (r.stored ? "ok" : "not_stored"),
    );

  /** In use until the download's stream closes; observed when it does. */
  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    const use = this.#acquire();
    const ended = this.#begin("retrieve", ctx);
    let r: RetrieveResult | null;
    try {
      r = await (await use.peer).retrieve(key, offset, ctx);
    } catch (e) {
      use.done();
      ended(outcomeOfError(e));
      throw e;
    }
    if (r === null) {
      use.done();
      ended("ok");
      return r;
    }
    const got = r;
    // finished() also calls back for a stream that is already over.
    finished(got.data, (err) => {
      use.done();
      if (err) {
        // A reader that gave up (its client went away, a HEAD) destroys
        // the stream early: not the node's doing. A node that broke off is.
        const kind = outcomeOfError(err);
        const gaveUp =
          kind === "error" &&
          (ctx?.signal?.aborted === true ||
            (err as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE");
        ended(gaveUp ? "cancelled" : kind);
        return;
      }
      void got.valid.then(
        (ok) => {
          if (ok) this.#moved("in", got.length);
          ended(ok ? "ok" : "verification_failed");
        },
        (e: unknown) => ended(outcomeOfError(e)),
      );
    });
    return r;
  }

  /** In use until the lock is released. */
  async lockContent(key: Key, ctx?: PeerContext): Promise<LockResult> {
    const use = this.#acquire();
    const ended = this.#begin("lockContent", ctx);
    let r: LockResult;
    try {
      r = await (await use.peer).lockContent(key, ctx);
      ended("ok");
    } catch (e) {
      use.done();
      ended(outcomeOfError(e));
      throw e;
    }
    if (r.kind !== "locked") {
      use.done();
      return r;
    }
    const held = r.lock;
    const lock: ContentLock = {
      keep: () => held.keep(),
      release: async () => {
        try {
          await held.release();
        } finally {
          use.done();
        }
      },
    };
    return { kind: "locked", lock };
  }

  /** Connections belong to the gateway and close with it. */
  async close(): Promise<void> {}
}
