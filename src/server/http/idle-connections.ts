/**
 * A cap on the idle connections one client address may keep open: a
 * connection with no request in progress (kept alive after its last answer,
 * or never used). git-annex clients keep connections alive for up to 20
 * minutes, so without a cap one client opening thousands of connections
 * would hold that many file descriptors, and the server would run out for
 * everyone else. Past the cap the client's oldest idle connection is
 * closed: a client only loses a connection it was not using, and its new
 * one (just opened, so about to be used) is kept. Connections busy with a
 * request are bounded by the per-client request cap instead.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { Server as TlsServer } from "node:tls";

/** Default of --max-idle-per-client. */
export const DEFAULT_MAX_IDLE_PER_CLIENT = 64;

export class IdleConnections {
  readonly #max: number;
  /** Per client address, its idle connections, oldest first (a Set keeps insertion order). */
  readonly #idle = new Map<string, Set<Socket>>();
  /** Requests in progress per connection (more than one when pipelined). */
  readonly #busy = new WeakMap<Socket, number>();
  /** Each connection's client address, as it was when it opened. */
  readonly #clients = new WeakMap<Socket, string>();
  #closedByCap = 0;

  constructor(maxPerClient: number = DEFAULT_MAX_IDLE_PER_CLIENT) {
    if (!(maxPerClient >= 1)) throw new RangeError("the idle connection cap is at least 1");
    this.#max = maxPerClient;
  }

  /**
   * Watch `server`'s connections. Over TLS the connection watched is the
   * TLS socket, the one requests arrive on; one still in its handshake is
   * bounded by the handshake timeout.
   */
  attach(server: Server): void {
    const event = server instanceof TlsServer ? "secureConnection" : "connection";
    server.on(event, (socket: Socket) => this.#opened(socket));
    server.on("request", (req: { socket: Socket }, res: NodeJS.EventEmitter) =>
      this.#requested(req.socket, res),
    );
  }

  /** Idle connections now, over every client. */
  get idle(): number {
    let n = 0;
    for (const set of this.#idle.values()) n += set.size;
    return n;
  }

  /** Connections closed so far because their client was over the cap. */
  get closedByCap(): number {
    return this.#closedByCap;
  }

  #opened(socket: Socket): void {
    const client = socket.remoteAddress ?? "unknown";
    this.#clients.set(socket, client);
    socket.once("close", () => this.#forget(client, socket));
    this.#markIdle(client, socket);
  }

  #requested(socket: Socket, res: NodeJS.EventEmitter): void {
    const client = this.#clients.get(socket);
    if (client === undefined) return; // not seen opening: not watched
    this.#idle.get(client)?.delete(socket);
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
    res.once("close", () => {
      const n = (this.#busy.get(socket) ?? 1) - 1;
      this.#busy.set(socket, n);
      if (n === 0 && !socket.destroyed) this.#markIdle(client, socket);
    });
  }

  #markIdle(client: string, socket: Socket): void {
    let set = this.#idle.get(client);
    if (set === undefined) {
      set = new Set();
      this.#idle.set(client, set);
    }
    set.delete(socket);
    set.add(socket);
    while (set.size > this.#max) {
      const oldest = set.values().next().value as Socket;
      set.delete(oldest);
      this.#closedByCap++;
      oldest.destroy();
    }
  }

  #forget(client: string, socket: Socket): void {
    const set = this.#idle.get(client);
    if (set === undefined) return;
    set.delete(socket);
    if (set.size === 0) this.#idle.delete(client);
  }
}
