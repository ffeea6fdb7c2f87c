/**
 * One connection of the P2P line protocol to a child process speaking
 * `p2pstdio` on its stdio (ssh to a git-annex-shell, or a local one), and
 * the bounded pool of such connections a LinePeer keeps per remote.
 *
 * Opening a connection follows git-annex's client (Remote/Helper/Ssh.hs,
 * openP2PShellConnection'): the server speaks first with AUTH-SUCCESS and
 * its UUID (AUTH is only for the tor/p2p transport), then the client sends
 * VERSION and takes the version the server answers (an ERROR means a server
 * from before VERSION: version 0), then BYPASS when there is one to send
 * and the version is 2 or more.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  MAX_PROTOCOL_VERSION,
  type Message,
  MessageChannel,
  ProtocolError,
  type ProtocolVersion,
} from "../../protocol/index.js";
import { PeerError, PeerProtocolError, PeerRefusedError, PeerUnreachableError } from "../peer.js";

/** Which failure a broken connection is: the far side gone, saying no, or not speaking the protocol. */
export type FailureClass =
  | typeof PeerError
  | typeof PeerUnreachableError
  | typeof PeerRefusedError
  | typeof PeerProtocolError;

export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const STDERR_KEEP = 4096;

/** A live child speaking the protocol; used by one operation at a time. */
export class Connection {
  readonly child: ChildProcess;
  readonly ch: MessageChannel;
  version: ProtocolVersion = 0;
  /** Set once the connection may not carry another request. */
  broken = false;
  idleTimer: NodeJS.Timeout | undefined;
  #stderrTail = "";
  #spawnError: unknown;
  readonly #exited: Promise<void>;

  constructor(
    spec: SpawnSpec,
    readonly bypassKey: string,
    stallTimeoutMs?: number,
  ) {
    this.child = spawn(spec.command, [...spec.args], {
      stdio: ["pipe", "pipe", "pipe"],
      ...(spec.env !== undefined ? { env: spec.env } : {}),
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
    });
    this.#exited = new Promise((resolve) => {
      this.child.once("close", () => resolve());
      this.child.once("error", (e) => {
        this.#spawnError = e;
        resolve();
      });
    });
    this.child.once("exit", () => {
      this.broken = true;
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.#stderrTail = (this.#stderrTail + d.toString("utf8")).slice(-STDERR_KEEP);
    });
    const stdout = this.child.stdout;
    const stdin = this.child.stdin;
    if (!stdout || !stdin)
      throw new PeerUnreachableError("child has no stdio", { command: spec.command });
    // A repository that stops answering, taking or sending data (a hung
    // host, a stopped process) fails the request in progress instead of
    // holding it, and the client's transfer slot, for ever.
    this.ch = new MessageChannel(
      stdout,
      stdin,
      stallTimeoutMs !== undefined ? { stallTimeoutMs } : {},
    );
  }

  /**
   * Call `f` once the child has exited, at once if it already has (a
   * listener attached after an await would miss an exit that came during
   * it). Returns the unhook.
   */
  onExit(f: () => void): () => void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      f();
      return () => undefined;
    }
    this.child.once("exit", f);
    return () => this.child.off("exit", f);
  }

  /** What the child said on stderr lately, and how it failed to start, for error messages. */
  describe(): Record<string, unknown> {
    return {
      pid: this.child.pid,
      exitCode: this.child.exitCode,
      signal: this.child.signalCode,
      stderr: this.#stderrTail.trim(),
      ...(this.#spawnError !== undefined ? { spawnError: String(this.#spawnError) } : {}),
    };
  }

  /** Send, as a PeerError (and a broken connection) on failure. */
  async send(m: Message): Promise<void> {
    try {
      await this.ch.send(m);
    } catch (e) {
      throw this.fail(PeerUnreachableError, `sending ${m.type} failed`, e);
    }
  }

  /**
   * The next message, which must be one of `types`. Anything else breaks
   * the connection: an ERROR (its text in the PeerError), a message out of
   * turn, a malformed line, or the end of the stream.
   */
  async expect<T extends Message["type"]>(...types: T[]): Promise<Extract<Message, { type: T }>> {
    let m: Message | null;
    try {
      m = await this.ch.receive();
    } catch (e) {
      throw e instanceof ProtocolError
        ? this.fail(PeerProtocolError, "malformed reply", e)
        : this.fail(PeerUnreachableError, "reading the reply failed", e);
    }
    if (m === null) {
      await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 200))]);
      throw this.fail(PeerUnreachableError, "the connection closed", this.#spawnError);
    }
    if ((types as string[]).includes(m.type)) return m as Extract<Message, { type: T }>;
    if (m.type === "ERROR") throw this.fail(PeerRefusedError, `the server said: ${m.message}`);
    // Tell the server, as git-annex's client does, then give up on it.
    void this.ch.send({ type: "ERROR", message: `expected ${types.join(" or ")}` }).catch(() => {});
    throw this.fail(PeerProtocolError, `expected ${types.join(" or ")}, got ${m.type}`);
  }

  /** Mark broken and make the error for it, of the class that says whose failure it is. */
  fail(as: FailureClass, message: string, cause?: unknown): PeerError {
    this.broken = true;
    return new as(`p2p connection: ${message}`, this.describe(), cause);
  }

  /**
   * The handshake: AUTH-SUCCESS with the expected UUID, VERSION, BYPASS.
   * Rejects (with the connection closed) when the server is not the one
   * wanted or does not answer.
   */
  async open(uuid: string, maxVersion: ProtocolVersion, bypass: readonly string[]): Promise<void> {
    try {
      const hello = await this.expect("AUTH-SUCCESS", "AUTH-FAILURE");
      if (hello.type === "AUTH-FAILURE")
        throw this.fail(PeerRefusedError, "the server refused the connection");
      if (hello.uuid !== uuid) {
        throw this.fail(PeerRefusedError, `the server is ${hello.uuid}, not ${uuid}`);
      }
      await this.send({ type: "VERSION", version: maxVersion });
      const reply = await this.ch.receive().catch((e: unknown) => {
        throw e instanceof ProtocolError
          ? this.fail(PeerProtocolError, "malformed VERSION reply", e)
          : this.fail(PeerUnreachableError, "reading the VERSION reply failed", e);
      });
      if (reply === null) throw this.fail(PeerUnreachableError, "the connection closed");
      if (reply.type === "VERSION") {
        const v = Math.min(reply.version, maxVersion, MAX_PROTOCOL_VERSION);
        this.version = v as ProtocolVersion;
      } else if (reply.type === "ERROR") {
        this.version = 0; // a server from before VERSION
      } else {
        throw this.fail(PeerProtocolError, `expected VERSION, got ${reply.type}`);
      }
      if (bypass.length > 0 && this.version >= 2) {
        await this.send({ type: "BYPASS", uuids: bypass });
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** End the conversation: stdin closed, so the server ends; killed if it lingers. */
  async close(): Promise<void> {
    this.broken = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const ending = this.ch.close().catch(() => undefined);
    const done = this.child.exitCode !== null || this.child.signalCode !== null;
    if (!done) {
      const term = setTimeout(() => this.child.kill("SIGTERM"), 5000);
      const kill = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      term.unref();
      kill.unref();
      await this.#exited;
      clearTimeout(term);
      clearTimeout(kill);
    }
    // The child is gone; a send still waiting on its source is not waited for.
    await Promise.race([ending, new Promise((r) => setTimeout(r, 100).unref())]);
  }

  /** Stop at once (a request broken off mid-way): the child is killed. */
  async kill(): Promise<void> {
    this.broken = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.close();
  }
}

export type ConnectionKind = "op" | "lock";

export interface PoolOptions {
  readonly spec: SpawnSpec;
  readonly uuid: string;
  readonly maxVersion: ProtocolVersion;
  /** Connections for ordinary requests at once. */
  readonly maxOps: number;
  /** Connections held by content locks at once. */
  readonly maxLocks: number;
  /** Idle connections are closed after this long (ms). */
  readonly idleTimeoutMs: number;
  /** A request fails once the repository owes progress and makes none for this long (ms). */
  readonly stallTimeoutMs: number;
}

/**
 * Connections to one remote: idle ones are reused (newest first), new ones
 * spawned up to the bounds, and callers past the bounds wait their turn.
 * Requests and held locks are bounded apart, so held locks never starve
 * transfers. A connection carries the BYPASS it was opened with, so it is
 * reused only for the same BYPASS.
 */
export class ConnectionPool {
  readonly #idle: Connection[] = [];
  readonly #busy: Record<ConnectionKind, number> = { op: 0, lock: 0 };
  readonly #live = new Set<Connection>();
  #waiters: Array<() => void> = [];
  #closed = false;

  readonly #opts: PoolOptions;
  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  async acquire(
    kind: ConnectionKind,
    bypass: readonly string[],
    signal?: AbortSignal,
  ): Promise<Connection> {
    const bypassKey = [...bypass].sort().join(" ");
    const max = kind === "op" ? this.#opts.maxOps : this.#opts.maxLocks;
    for (;;) {
      if (this.#closed) throw new PeerError("peer is closed", { uuid: this.#opts.uuid });
      signal?.throwIfAborted();
      if (this.#busy[kind] < max) {
        const i = this.#idle.findIndex((c) => c.bypassKey === bypassKey && !c.broken);
        if (i >= 0) {
          const [c] = this.#idle.splice(i, 1);
          if (c) {
            clearTimeout(c.idleTimer);
            this.#busy[kind]++;
            return c;
          }
        }
        this.#busy[kind]++;
        try {
          return await this.#spawn(bypassKey, bypass);
        } catch (e) {
          this.#busy[kind]--;
          this.#wake();
          throw e;
        }
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== wake);
          reject(signal?.reason);
        };
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#waiters.push(wake);
      });
    }
  }

  /** Give a connection back: kept for reuse when `reusable`, else closed. */
  release(c: Connection, kind: ConnectionKind, reusable: boolean): void {
    this.#busy[kind]--;
    if (!reusable || c.broken || this.#closed) {
      this.#drop(c, !reusable || c.broken);
    } else {
      this.#idle.push(c);
      c.idleTimer = setTimeout(() => {
        const i = this.#idle.indexOf(c);
        if (i >= 0) this.#idle.splice(i, 1);
        this.#drop(c, false);
      }, this.#opts.idleTimeoutMs);
      c.idleTimer.unref();
      // Beyond the bound on requests, extra idle connections are closed.
      while (this.#idle.length > this.#opts.maxOps) {
        const old = this.#idle.shift();
        if (old) this.#drop(old, false);
      }
    }
    this.#wake();
  }

  /** Close every connection (idle ones now, busy ones as they come back). */
  async close(): Promise<void> {
    this.#closed = true;
    const idle = this.#idle.splice(0);
    this.#wake();
    await Promise.all(idle.map((c) => this.#dropNow(c, false)));
  }

  /** Connections alive now (idle or in use). */
  get size(): number {
    return this.#live.size;
  }

  async #spawn(bypassKey: string, bypass: readonly string[]): Promise<Connection> {
    const c = new Connection(this.#opts.spec, bypassKey, this.#opts.stallTimeoutMs);
    this.#live.add(c);
    c.child.once("exit", () => {
      // An idle connection whose far end went away is not offered again.
      const i = this.#idle.indexOf(c);
      if (i >= 0) {
        this.#idle.splice(i, 1);
        clearTimeout(c.idleTimer);
      }
    });
    try {
      await c.open(this.#opts.uuid, this.#opts.maxVersion, bypass);
    } catch (e) {
      this.#live.delete(c);
      throw e;
    }
    return c;
  }

  #drop(c: Connection, kill: boolean): void {
    void this.#dropNow(c, kill);
  }

  async #dropNow(c: Connection, kill: boolean): Promise<void> {
    await (kill ? c.kill() : c.close()).catch(() => undefined);
    this.#live.delete(c);
  }

  #wake(): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}
