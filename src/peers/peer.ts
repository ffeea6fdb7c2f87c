/**
 * The one interface every repository offers: the operations of git-annex's
 * P2P protocol, as TypeScript. Front-ends (HTTP, line protocol) turn wire
 * requests into calls on a Peer; Peers know storage. See ARCHITECTURE.md.
 *
 * Results carry `plusUuids`: the other repositories (cluster nodes, proxied
 * remotes) the operation also reached, as SUCCESS-PLUS / `plusuuids` report.
 */
import type { Readable } from "node:stream";
import { AnnexgateError, type ErrorCode } from "../errors.js";
import type { Key } from "../keys/index.js";
import type {
  PresentAnswer,
  PutOffsetAnswer,
  RemovedAnswer,
  StoredAnswer,
} from "../protocol/index.js";

/**
 * How long a remote repository may owe progress on a request (an answer,
 * taking the data sent, sending the data asked for) and make none before
 * the request fails as unreachable (ms). Shorter than a client would wait:
 * a stalled node must not hold a client's transfer slot for ever.
 */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface PeerContext {
  /** UUID of the repository on the client side of this request. */
  readonly clientUuid?: string | undefined;
  /** Cluster gateways to avoid (BYPASS), when relaying to other gateways. */
  readonly bypass?: readonly string[] | undefined;
  /** Aborted when the client goes away; long operations stop and clean up. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The file the client named for this request (PUT's associated file), so
   * a cluster can ask its nodes' preferred content already at putOffset.
   */
  readonly associatedFile?: string | undefined;
  /**
   * The id of the client's request this call is made for: in the
   * gateway's warnings about the nodes it called for it, and sent on to
   * a node reached over p2phttp (an annexgate node logs it as its
   * request's upstreamId), so one id follows a request through the logs.
   */
  readonly requestId?: string | undefined;
}

/**
 * A context whose abort signal is made only when a peer asks for it: a
 * request's signal costs more than a whole check, and checks never ask.
 * A class, because an object literal with a getter costs about 0.5 µs to
 * make, this 0.05. The getter is on the prototype, so a copy made by
 * spreading must set `signal` itself (`{ ...ctx, signal }`).
 */
export class LazySignalContext implements PeerContext {
  readonly clientUuid?: string;
  readonly bypass?: readonly string[];
  readonly associatedFile?: string;
  readonly requestId?: string;
  readonly #signal: () => AbortSignal | undefined;

  /**
   * `fields` may be another context (its signal is not read); `overrides`
   * replace some of its fields (a relayed request's bypass list).
   */
  constructor(
    fields: Omit<PeerContext, "signal">,
    signal: () => AbortSignal | undefined,
    overrides: Omit<PeerContext, "signal"> = {},
  ) {
    const clientUuid = overrides.clientUuid ?? fields.clientUuid;
    const bypass = overrides.bypass ?? fields.bypass;
    const associatedFile = overrides.associatedFile ?? fields.associatedFile;
    const requestId = overrides.requestId ?? fields.requestId;
    if (clientUuid !== undefined) this.clientUuid = clientUuid;
    if (bypass !== undefined) this.bypass = bypass;
    if (associatedFile !== undefined) this.associatedFile = associatedFile;
    if (requestId !== undefined) this.requestId = requestId;
    this.#signal = signal;
  }

  get signal(): AbortSignal | undefined {
    return this.#signal();
  }
}

/**
 * Every field of a PeerContext but its signal, which LazySignalContext
 * copies one by one: a field added to PeerContext fails to compile here
 * until it is copied there too.
 */
const _COPIED_FIELDS = {
  clientUuid: true,
  bypass: true,
  associatedFile: true,
  requestId: true,
} as const satisfies Record<Exclude<keyof PeerContext, "signal">, true>;
void _COPIED_FIELDS;

/**
 * A Peer's answers have the p2phttp API's shapes (the protocol layer
 * defines them once, for both wires): whether it has a key, whether a
 * remove or store happened (and where else, `plusUuids`), and before a
 * store where to resume or that it already has the key.
 */
export type PresenceResult = PresentAnswer;
export type RemoveResult = RemovedAnswer;
export type StoreResult = StoredAnswer;
export type PutOffsetResult = PutOffsetAnswer;

export interface StoreRequest {
  readonly key: Key;
  readonly associatedFile?: string;
  /** Bytes the sender leaves out at the start (a resumed upload). */
  readonly offset: number;
  /**
   * Bytes the sender promises from `offset` on. If `data` ends early or runs
   * long, the content is invalid and nothing is stored.
   */
  readonly length: number;
  readonly data: Readable;
  /**
   * Set by a sender in this same process that checks the content itself
   * (a cluster fanning one upload out to several local nodes hashes it
   * once): resolves, after `data` has ended, to whether the whole content
   * from offset 0 matched the key. A local store may rely on it instead of
   * hashing the same bytes again; peers elsewhere ignore it.
   */
  readonly checkedBySender?: Promise<boolean>;
}

export interface RetrieveResult {
  /** Bytes that will follow from the requested offset. */
  readonly length: number;
  readonly data: Readable;
  /**
   * Resolves once `data` has ended: true when what was sent is the key's
   * content (false when, e.g., an unlocked file changed while being sent).
   */
  readonly valid: Promise<boolean>;
}

/** A held content lock; the content cannot be removed until it is released. */
export interface ContentLock {
  /** Keep the lock from expiring until it is released (p2phttp keeplocked). */
  keep(): void;
  release(): Promise<void>;
}

/**
 * What lockContent answers: the lock held; the content not here to lock
 * (absent, or on its way out); or a peer that cannot lock content at all.
 * A failure to ask is an error, never one of these.
 */
export type LockResult =
  | { readonly kind: "locked"; readonly lock: ContentLock }
  | { readonly kind: "absent" }
  | { readonly kind: "unsupported" };

export const LOCK_ABSENT: LockResult = { kind: "absent" };
export const LOCK_UNSUPPORTED: LockResult = { kind: "unsupported" };

export interface Peer {
  readonly uuid: string;
  /**
   * What a front-end reports a request to this Peer as reaching: a
   * cluster, or a remote proxied for; absent for a repository itself.
   */
  readonly target?: "cluster" | "proxied";
  checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult>;
  lockContent(key: Key, ctx?: PeerContext): Promise<LockResult>;
  /**
   * Remove the content. With `before`, only while this peer's monotonic clock
   * (see getTimestamp) has not passed it.
   */
  remove(key: Key, opts?: { before?: number }, ctx?: PeerContext): Promise<RemoveResult>;
  /** Seconds on this peer's monotonic clock. */
  getTimestamp(ctx?: PeerContext): Promise<number>;
  putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult>;
  /** Store content that arrives in the request. */
  store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult>;
  /** Store content already placed in the peer by other means (DATA-PRESENT). */
  storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult>;
  /** Null when the content is not present. */
  retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null>;
  close(): Promise<void>;
}

/**
 * A peer failed in a way that is not a plain "no". Thrown as such only for
 * failures on this side (a closed peer, a bad URL); what the far side did is
 * one of the subclasses, so a cluster can tell a node that is down from one
 * that said no and one that is broken.
 */
export class PeerError extends AnnexgateError {
  /** The code instances of this class carry. */
  static readonly errorCode: ErrorCode = "AG_PEER";

  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super((new.target as typeof PeerError).errorCode, message, data, cause);
  }
}

/** No answer: the node could not be reached, went away, or timed out. */
export class PeerUnreachableError extends PeerError {
  static override readonly errorCode: ErrorCode = "AG_PEER_UNREACHABLE";
}

/**
 * The node answered and said no: an ERROR or AUTH-FAILURE on the line, a
 * non-200 status over HTTP, or a request its protocol version lacks
 * (`data.unsupported`, refused before anything was sent).
 */
export class PeerRefusedError extends PeerError {
  static override readonly errorCode: ErrorCode = "AG_PEER_REFUSED";
}

/** The node answered something the protocol does not allow (it is broken or not a peer). */
export class PeerProtocolError extends PeerError {
  static override readonly errorCode: ErrorCode = "AG_PEER_PROTOCOL";
}
