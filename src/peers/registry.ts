/**
 * Peers by kind of remote: a registry maps a remote's kind (its transport:
 * a repository on this machine, ssh, p2phttp, and later the special
 * remotes) to the module that opens a Peer for it. The proxy layer asks
 * the registry and knows no kind; a new kind is one module under
 * `src/peers/<kind>/` and one line in `builtin-kinds.ts`.
 */

import type { AnnexBranch } from "../branch/index.js";
import { AnnexgateError } from "../errors.js";
import type { Git } from "../git/index.js";
import type { TmpLimitText } from "../objects/index.js";
import type { Remote, RemoteTransport } from "../remotes/index.js";
import type { Logger } from "../util/index.js";
import type { IndirectStorage, IndirectUnavailable } from "./indirect.js";
import type { Peer } from "./peer.js";
import type { SpecialChunkLog } from "./special/chunk-log.js";
import type { PathStorage } from "./special/storage.js";

/** Every kind of remote that can be opened: all transports but "unsupported". */
export type RemoteKind = Exclude<RemoteTransport["kind"], "unsupported">;

/** The transport of a remote of kind `K`. */
export type TransportOf<K extends RemoteKind> = Extract<RemoteTransport, { kind: K }>;

/** What opening a remote may use, whatever its kind. */
export interface PeerOpenContext {
  /** This gateway's UUID: the client UUID the remote sees. */
  readonly gatewayUuid: string;
  /** The gateway's repository, whose git credential helpers hold p2phttp passwords. */
  readonly git?: Git;
  /** The gateway's git-annex branch, where special remotes' logs are (export.log, ...). */
  readonly branch?: AnnexBranch;
  /** Commit delay for repositories opened in-process (ms). */
  readonly commitDelayMs?: number;
  /**
   * Reclaim abandoned partial uploads in repositories opened in-process
   * (a long-running gateway), within these limits or each one's git config.
   */
  readonly tmpReclaim?: TmpLimitText;
  /** Requests to one remote at once (connections or sockets). */
  readonly maxConnections?: number;
  /**
   * How long a remote may owe progress on a request (an answer, taking
   * data, sending data) and make none before the request fails as
   * unreachable (ms; default DEFAULT_STALL_TIMEOUT_MS).
   */
  readonly stallTimeoutMs?: number;
  /** Where the remote's connection logs (already narrowed to the remote). */
  readonly logger?: Logger;
  /**
   * The chunk log on the gateway's branch, for special remotes: where
   * chunked content is found and recorded. Without it a chunked special
   * remote is refused.
   */
  readonly chunkLog?: SpecialChunkLog;
}

/** An open connection to a remote, closed by whoever opened it. */
export interface RemoteConnection {
  readonly peer: Peer;
  /**
   * For an export remote (`exporttree=yes annexobjects=yes`): its files
   * addressed by path, for exporting a tree to it; closed with the
   * connection.
   */
  readonly exportFiles?: PathStorage;
  /**
   * The remote's indirect uploads (annexgate's extension), or why it has
   * none; absent for a kind that never has them.
   */
  readonly indirect?: IndirectStorage | IndirectUnavailable;
  close(): Promise<void>;
}

/** How remotes of one kind are opened. */
export interface PeerKind<K extends RemoteKind = RemoteKind> {
  readonly kind: K;
  open(remote: Remote, transport: TransportOf<K>, ctx: PeerOpenContext): Promise<RemoteConnection>;
}

/** A kind of any name (what a registry holds). */
export type AnyPeerKind = { [K in RemoteKind]: PeerKind<K> }[RemoteKind];

/** A remote of a known kind could not be reached (or is not the repository it should be). */
export class UnreachableRemoteError extends AnnexgateError {
  constructor(remote: Remote, reason: string, cause?: unknown) {
    super(
      "AG_UNREACHABLE_REMOTE",
      `cannot reach remote ${remote.name}: ${reason}`,
      { remote: remote.name, uuid: remote.uuid },
      cause,
    );
  }
}

/** No kind is registered for a remote's transport. */
export class UnknownRemoteKindError extends AnnexgateError {
  constructor(remote: Remote, kind: string, known: readonly string[]) {
    super(
      "AG_UNKNOWN_REMOTE_KIND",
      `cannot reach remote ${remote.name}: no support for remotes of kind ${kind} (known: ${known.join(", ") || "none"})`,
      { remote: remote.name, uuid: remote.uuid, kind, known: [...known] },
    );
  }
}

/** Two kinds were registered under one name. */
export class DuplicatePeerKindError extends AnnexgateError {
  constructor(kind: string) {
    super("AG_DUPLICATE_PEER_KIND", `remote kind ${kind} is registered twice`, { kind });
  }
}

/**
 * An immutable set of kinds, one per name. `with` gives a new registry,
 * so a registry handed to a gateway cannot change under it.
 */
export class PeerKinds {
  readonly #kinds: ReadonlyMap<string, AnyPeerKind>;

  constructor(kinds: readonly AnyPeerKind[]) {
    const map = new Map<string, AnyPeerKind>();
    for (const k of kinds) {
      if (map.has(k.kind)) throw new DuplicatePeerKindError(k.kind);
      map.set(k.kind, k);
    }
    this.#kinds = map;
  }

  /** These kinds with `kind` added, or in place of the one of its name. */
  with(kind: AnyPeerKind): PeerKinds {
    return new PeerKinds([...[...this.#kinds.values()].filter((k) => k.kind !== kind.kind), kind]);
  }

  /** The kinds registered, by name. */
  get names(): string[] {
    return [...this.#kinds.keys()];
  }

  /** Open `remote` with the kind of its transport. */
  async open(remote: Remote, ctx: PeerOpenContext): Promise<RemoteConnection> {
    const t = remote.transport;
    if (t.kind === "unsupported") throw new UnreachableRemoteError(remote, t.reason);
    const kind = this.#kinds.get(t.kind);
    if (kind === undefined) throw new UnknownRemoteKindError(remote, t.kind, this.names);
    // Each kind is held under its own name, so it takes this transport.
    return (kind as PeerKind).open(remote, t, ctx);
  }
}
