/**
 * The gateway's connections to its remotes: made on first use, shared by
 * every request to that remote, and closed when the remote leaves the
 * configuration — once the last request using the connection has ended
 * (a download's stream closed, a content lock released), not in the
 * middle of it.
 */
import { finished } from "node:stream";
import type { Key } from "../keys/index.js";
import type {
  ContentLock,
  LockResult,
  Peer,
  PeerContext,
  RemoteConnection,
  RetrieveResult,
  StoreRequest,
} from "../peers/index.js";
import type { Remote } from "../remotes/index.js";
import { errorText, type Logger } from "../util/index.js";
import {
  type NodeLabel,
  type NodeObserver,
  type NodeOperation,
  type NodeOutcome,
  outcomeOfError,
} from "./node-observer.js";

interface Entry {
  readonly id: string;
  readonly conn: Promise<RemoteConnection>;
  /** Requests using the connection right now. */
  users: number;
  /** No longer in the configuration: closed when unused. */
  retired: boolean;
  closed: boolean;
}

/** One use of a connection; `done` may be called more than once. */
interface Use {
  readonly peer: Promise<Peer>;
  done(): void;
}

/** How a remote is told apart: the same repository reached another way is another connection. */
function idOf(remote: Remote): string {
  return `${remote.uuid} ${JSON.stringify(remote.transport)}`;
}

export class RemoteConnections {
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  readonly #connect: (remote: Remote) => Promise<RemoteConnection>;
  readonly #logger: Logger | undefined;
  readonly #observer: NodeObserver | undefined;

  constructor(
    connect: (remote: Remote) => Promise<RemoteConnection>,
    opts: { readonly logger?: Logger; readonly observer?: NodeObserver } = {},
  ) {
    this.#connect = connect;
    this.#logger = opts.logger;
    this.#observer = opts.observer;
  }

  /** A Peer for `remote`, connecting on its first use. */
  peerFor(remote: Remote): Peer {
    return new CountedPeer(
      { name: remote.name, uuid: remote.uuid },
      () => this.#acquire(remote),
      this.#observer,
    );
  }

  /** Connections open now (for tests and the log). */
  get size(): number {
    return this.#entries.size;
  }

  /** Retire the connections of remotes not in `remotes`; each closes once unused. */
  retainOnly(remotes: Iterable<Remote>): void {
    const keep = new Set([...remotes].map(idOf));
    for (const entry of this.#entries.values()) {
      if (!keep.has(entry.id)) {
        entry.retired = true;
        this.#maybeClose(entry);
      }
    }
  }

  /** Close every connection, in use or not (the gateway is shutting down). */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map((e) => this.#close(e)));
  }

  #acquire(remote: Remote): Use {
    if (this.#closed) throw new Error("gateway closed");
    const id = idOf(remote);
    let entry = this.#entries.get(id);
    if (entry === undefined) {
      const conn = this.#connect(remote);
      const made: Entry = { id, conn, users: 0, retired: false, closed: false };
      // A failed connection is tried again on the next request.
      conn.catch(() => {
        if (this.#entries.get(id) === made) this.#entries.delete(id);
      });
      this.#entries.set(id, made);
      entry = made;
    }
    // Asked for again: the remote is back in the configuration.
    entry.retired = false;
    entry.users += 1;
    const used = entry;
    let ended = false;
    return {
      peer: used.conn.then((c) => c.peer),
      done: () => {
        if (ended) return;
        ended = true;
        used.users -= 1;
        this.#maybeClose(used);
      },
    };
  }

  #maybeClose(entry: Entry): void {
    if (!entry.retired || entry.users > 0 || entry.closed) return;
    if (this.#entries.get(entry.id) === entry) this.#entries.delete(entry.id);
    void this.#close(entry);
  }

  async #close(entry: Entry): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    try {
      await (await entry.conn).close();
    } catch (e) {
      this.#logger?.warn({ remote: entry.id, err: errorText(e) }, "closing a connection failed");
    }
  }
}

/**
 * A remote's Peer whose every call counts as a use of its connection, and
 * is told to the observer (how it ended, how long it took, what it moved).
 */
class CountedPeer implements Peer {
  readonly uuid: string;
  readonly #acquire: () => Use;
  readonly #node: NodeLabel;
  readonly #observer: NodeObserver | undefined;

  constructor(node: NodeLabel, acquire: () => Use, observer: NodeObserver | undefined) {
    this.uuid = node.uuid;
    this.#node = node;
    this.#acquire = acquire;
    this.#observer = observer;
  }

  /** Tells the observer; an observer that fails never fails the call. */
  #observe(op: NodeOperation, outcome: NodeOutcome, started: number): void {
    try {
      this.#observer?.nodeCall(this.#node, op, outcome, (performance.now() - started) / 1000);
    } catch {
      // metrics are not worth a failed transfer
    }
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
    f: (peer: Peer) => Promise<T>,
    outcomeOf: (r: T) => NodeOutcome = () => "ok",
  ): Promise<T> {
    const use = this.#acquire();
    const started = performance.now();
    let r: T;
    try {
      r = await f(await use.peer);
    } catch (e) {
      this.#observe(op, outcomeOfError(e), started);
      throw e;
    } finally {
      use.done();
    }
    this.#observe(op, outcomeOf(r), started);
    return r;
  }

  checkPresent: Peer["checkPresent"] = (key, ctx) =>
    this.#call("checkPresent", (p) => p.checkPresent(key, ctx));
  remove: Peer["remove"] = (key, opts, ctx) =>
    this.#call("remove", (p) => p.remove(key, opts, ctx));
  getTimestamp: Peer["getTimestamp"] = (ctx) =>
    this.#call("getTimestamp", (p) => p.getTimestamp(ctx));
  putOffset: Peer["putOffset"] = (key, ctx) =>
    this.#call("putOffset", (p) => p.putOffset(key, ctx));
  store: Peer["store"] = (req: StoreRequest, ctx?: PeerContext) =>
    this.#call(
      "store",
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
      (p) => p.storePresent(key, ctx),
      (r) => (r.stored ? "ok" : "not_stored"),
    );

  /** In use until the download's stream closes; observed when it does. */
  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    const use = this.#acquire();
    const started = performance.now();
    let r: RetrieveResult | null;
    try {
      r = await (await use.peer).retrieve(key, offset, ctx);
    } catch (e) {
      use.done();
      this.#observe("retrieve", outcomeOfError(e), started);
      throw e;
    }
    if (r === null) {
      use.done();
      this.#observe("retrieve", "ok", started);
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
        this.#observe("retrieve", gaveUp ? "cancelled" : kind, started);
        return;
      }
      void got.valid.then(
        (ok) => {
          if (ok) this.#moved("in", got.length);
          this.#observe("retrieve", ok ? "ok" : "verification_failed", started);
        },
        (e: unknown) => this.#observe("retrieve", outcomeOfError(e), started),
      );
    });
    return r;
  }

  /** In use until the lock is released. */
  async lockContent(key: Key, ctx?: PeerContext): Promise<LockResult> {
    const use = this.#acquire();
    const started = performance.now();
    let r: LockResult;
    try {
      r = await (await use.peer).lockContent(key, ctx);
      this.#observe("lockContent", "ok", started);
    } catch (e) {
      use.done();
      this.#observe("lockContent", outcomeOfError(e), started);
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
