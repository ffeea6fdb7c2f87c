/**
 * The client library seen as a Peer, so the one Peer conformance suite
 * runs through it: each Peer operation is the library call a web
 * application would make, with Node streams turned into web ones.
 */
import { Readable } from "node:stream";
import type { AnnexClient } from "../../src/client/index.js";
import type { Key } from "../../src/keys/index.js";
import type {
  LockResult,
  Peer,
  PresenceResult,
  PutOffsetResult,
  RemoveResult,
  RetrieveResult,
  StoreRequest,
  StoreResult,
} from "../../src/peers/index.js";

export class ClientPeer implements Peer {
  readonly uuid: string;
  constructor(readonly client: AnnexClient) {
    this.uuid = client.uuid;
  }

  async checkPresent(key: Key): Promise<PresenceResult> {
    return { present: await this.client.checkPresent(key) };
  }

  async lockContent(key: Key): Promise<LockResult> {
    const lock = await this.client.lockContent(key);
    if (lock === null) return { kind: "absent" };
    return { kind: "locked", lock: { keep: () => undefined, release: () => lock.release() } };
  }

  remove(key: Key, opts: { before?: number } = {}): Promise<RemoveResult> {
    return opts.before === undefined
      ? this.client.remove(key)
      : this.client.removeBefore(key, opts.before);
  }

  getTimestamp(): Promise<number> {
    return this.client.getTimestamp();
  }

  putOffset(key: Key): Promise<PutOffsetResult> {
    return this.client.putOffset(key);
  }

  store(req: StoreRequest): Promise<StoreResult> {
    const key =
      req.key.size === undefined ? { ...req.key, size: req.offset + req.length } : req.key;
    return this.client.put(key, () => req.data, {
      offset: req.offset,
      ...(req.associatedFile !== undefined ? { associatedFile: req.associatedFile } : {}),
    });
  }

  storePresent(key: Key): Promise<StoreResult> {
    return this.client.putPresent(key);
  }

  async retrieve(key: Key, offset: number): Promise<RetrieveResult | null> {
    const got = await this.client.get(key, { offset });
    if (got === null) return null;
    return {
      length: got.length,
      data: Readable.fromWeb(got.body as import("node:stream/web").ReadableStream<Uint8Array>),
      valid: got.valid,
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
