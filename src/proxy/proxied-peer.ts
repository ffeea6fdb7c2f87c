/**
 * A remote the gateway proxies for: every operation goes to the node's own
 * Peer, and what changes where content is (a store, a remove) is recorded
 * on the gateway's git-annex branch, as git-annex's proxy does
 * (Annex/Proxy.hs mkProxyMethods), so clients that sync with the gateway
 * learn it.
 */
import type { Key } from "../keys/index.js";
import {
  DelegatingPeer,
  type Peer,
  type PeerContext,
  type RemoveResult,
  type StoreRequest,
  type StoreResult,
} from "../peers/index.js";

/** Records in the gateway's location log that `uuid` has (or lost) `key`. */
export type LocationRecorder = (key: Key, uuid: string, present: boolean) => Promise<void>;

export interface ProxiedPeerOptions {
  /** How the node is reached. */
  readonly node: Peer;
  readonly record: LocationRecorder;
  /**
   * Told when recording failed. The operation itself succeeded and is
   * reported so (the client records its own copy of the change too).
   */
  readonly onRecordError?: (err: unknown) => void;
}

export class ProxiedPeer extends DelegatingPeer {
  readonly target = "proxied";
  readonly #opts: ProxiedPeerOptions;
  constructor(opts: ProxiedPeerOptions) {
    super(opts.node);
    this.#opts = opts;
  }

  override async remove(
    key: Key,
    opts?: { before?: number },
    ctx?: PeerContext,
  ): Promise<RemoveResult> {
    const r = await this.inner.remove(key, opts, ctx);
    // SUCCESS names this node and its plus-UUIDs; FAILURE-PLUS still names
    // the repositories the content did go from.
    await this.#recordAll(key, r.removed ? [this.uuid, ...r.plusUuids] : r.plusUuids, false);
    return r;
  }

  override async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    const r = await this.inner.store(req, ctx);
    if (r.stored) await this.#recordAll(req.key, [this.uuid, ...r.plusUuids], true);
    return r;
  }

  override async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    const r = await this.inner.storePresent(key, ctx);
    if (r.stored) await this.#recordAll(key, [this.uuid, ...r.plusUuids], true);
    return r;
  }

  async #recordAll(key: Key, uuids: readonly string[], present: boolean): Promise<void> {
    // All at once, so a recorder that gathers one key's records can write
    // them in one change.
    await Promise.all(
      [...new Set(uuids)].map((uuid) =>
        this.#opts.record(key, uuid, present).catch((e) => this.#opts.onRecordError?.(e)),
      ),
    );
  }
}
