/**
 * The gateway's connections to its remotes: made on first use, shared by
 * every request to that remote, and closed when the remote leaves the
 * configuration — once the last request using the connection has ended
 * (a download's stream closed, a content lock released), not in the
 * middle of it.
 */
import type { Peer, RemoteConnection } from "../peers/index.js";
import type { Remote } from "../remotes/index.js";
import { errorText, type Logger } from "../util/index.js";
import { CountedPeer } from "./counted-peer.js";
import type { NodeObserver } from "./node-observer.js";

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
export interface Use {
  readonly peer: Promise<Peer>;
  done(): void;
}

/** One use of a remote's connection; `done` may be called more than once. */
export interface ConnectionUse {
  readonly connection: Promise<RemoteConnection>;
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
    const acquire = (): Use => {
      const use = this.#acquire(remote);
      return { peer: use.connection.then((c) => c.peer), done: use.done };
    };
    return new CountedPeer({ name: remote.name, uuid: remote.uuid }, acquire, {
      ...(this.#observer ? { observer: this.#observer } : {}),
      ...(this.#logger ? { logger: this.#logger } : {}),
    });
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

  /**
   * One use of the connection to `remote` itself (connecting on its first
   * use), for what it offers beside its Peer; `done` once finished with it.
   */
  use(remote: Remote): ConnectionUse {
    return this.#acquire(remote);
  }

  #acquire(remote: Remote): ConnectionUse {
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
      connection: used.conn,
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
