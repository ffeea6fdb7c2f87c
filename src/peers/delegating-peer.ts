/**
 * The base of Peer decorators: every operation goes to the Peer inside,
 * so a decorator overrides only what it adds to (recording locations,
 * counting uses, failing on purpose in a test) and cannot forget to
 * forward an operation the interface gains later.
 */
import type { Key } from "../keys/index.js";
import type {
  LockResult,
  Peer,
  PeerContext,
  PresenceResult,
  PutOffsetResult,
  RemoveResult,
  RetrieveResult,
  StoreRequest,
  StoreResult,
} from "./peer.js";

export class DelegatingPeer implements Peer {
  constructor(protected readonly inner: Peer) {}

  get uuid(): string {
    return this.inner.uuid;
  }

  checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    return this.inner.checkPresent(key, ctx);
  }

  lockContent(key: Key, ctx?: PeerContext): Promise<LockResult> {
    return this.inner.lockContent(key, ctx);
  }

  remove(key: Key, opts?: { before?: number }, ctx?: PeerContext): Promise<RemoveResult> {
    return this.inner.remove(key, opts, ctx);
  }

  getTimestamp(ctx?: PeerContext): Promise<number> {
    return this.inner.getTimestamp(ctx);
  }

  putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    return this.inner.putOffset(key, ctx);
  }

  store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    return this.inner.store(req, ctx);
  }

  storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    return this.inner.storePresent(key, ctx);
  }

  retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    return this.inner.retrieve(key, offset, ctx);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
