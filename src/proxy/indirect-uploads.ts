/**
 * The gateway's indirect uploads (annexgate's extension, see
 * protocol/http-indirect.ts): a client asks where to upload a key for a
 * proxied remote or a cluster; when the remote (or, for a cluster, the
 * first node a put would go to that can) takes indirect uploads, its
 * storage stages the upload and signs URLs for it, and the gateway keeps
 * the staging until the client's DATA-PRESENT. Then the storage checks
 * and publishes the content, and only then is the node recorded as having
 * the key on the gateway's branch, as a put through the gateway records it.
 *
 * A pending upload belongs to whoever asked for it: the authenticated
 * user (when the server checks users) and the client's address. Nobody
 * else can replace it (they are refused) nor complete it (their
 * DATA-PRESENT is answered as if nothing were pending).
 *
 * Pending uploads are bounded, per client address and in all; one not
 * finished by its deadline is discarded then. Each remote's leftovers
 * (past their deadline and not pending here) are swept on the first
 * upload after start, and again after the last deadline handed out.
 */
import { formatKey, type Key, receiveVerification } from "../keys/index.js";
import type {
  IndirectStaged,
  IndirectStaging,
  IndirectStorage,
  IndirectVerify,
  Peer,
  PeerContext,
  RemoteConnection,
  StoreResult,
} from "../peers/index.js";
import type { IndirectUploadAnswer } from "../protocol/index.js";
import type { Remote } from "../remotes/index.js";
import { errorText, type Logger } from "../util/index.js";
import type { ConnectionUse } from "./connections.js";
import type { NodeObserver } from "./node-observer.js";
import type { LocationRecorder } from "./proxied-peer.js";

export interface IndirectSettings {
  /** How long the URLs handed out work (s); the gateway waits twice that for DATA-PRESENT. */
  readonly expiresSeconds: number;
  readonly verify: IndirectVerify;
  /** Part size (and threshold) of multipart uploads; default the remote's own. */
  readonly partSize?: number;
  /** Pending uploads at most, in all and per client address. */
  readonly maxPending: number;
  readonly maxPendingPerClient: number;
}

export const DEFAULT_INDIRECT_SETTINGS: IndirectSettings = {
  expiresSeconds: 3600,
  verify: "content",
  maxPending: 1024,
  maxPendingPerClient: 64,
};

/** A node an upload to a UUID may go to; `plus` is what a DATA-PRESENT answer names. */
export interface IndirectCandidate {
  readonly remote: Remote;
  readonly peer: Peer;
  readonly plus: readonly string[];
}

export interface IndirectUploadsOptions {
  readonly settings: IndirectSettings;
  /** The nodes an upload to `uuid` may go to, in order; a string: why none. */
  readonly candidates: (
    uuid: string,
    key: Key,
    associatedFile: string | undefined,
    ctx: PeerContext,
  ) => Promise<readonly IndirectCandidate[] | string>;
  readonly connection: (remote: Remote) => ConnectionUse;
  readonly record: LocationRecorder;
  readonly logger?: Logger;
  readonly observer?: Pick<NodeObserver, "nodeBytes">;
}

/** Who asks for an indirect upload, or sends its DATA-PRESENT. */
export interface IndirectClient {
  /** The client's address: the unit of the per-client bound. */
  readonly address: string;
  /** The user the server authenticated, when it checks users. */
  readonly user?: string;
  readonly clientUuid: string;
  readonly associatedFile?: string;
}

interface Pending {
  readonly id: string;
  /** Who may replace or complete it (ownerOf). */
  readonly owner: string;
  readonly address: string;
  readonly remote: Remote;
  readonly plus: readonly string[];
  readonly staging: IndirectStaging;
  readonly timer: NodeJS.Timeout;
}

interface Sweeps {
  readonly remote: Remote;
  /** The last deadline handed out for the remote (ms). */
  latest: number;
  timer: NodeJS.Timeout | undefined;
}

const NOT_STORED: StoreResult = { stored: false, plusUuids: [] };

function unavailable(reason: string, status: 404 | 409 = 404): IndirectUploadAnswer {
  return { kind: "unavailable", status, reason };
}

function storageOf(conn: RemoteConnection): IndirectStorage | string {
  const indirect = conn.indirect;
  if (indirect === undefined) return "the target's storage takes no indirect uploads";
  return "unavailable" in indirect ? indirect.unavailable : indirect;
}

export class IndirectUploads {
  readonly #pending = new Map<string, Pending>();
  readonly #perClient = new Map<string, number>();
  #total = 0;
  readonly #sweeps = new Map<string, Sweeps>();
  #closed = false;

  readonly #opts: IndirectUploadsOptions;
  constructor(opts: IndirectUploadsOptions) {
    this.#opts = opts;
  }

  /** Pending uploads now (for tests and the log). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Where the client may upload `key` for `uuid` itself, or why not. */
  async offer(
    uuid: string,
    key: Key,
    who: IndirectClient,
    ctx: PeerContext,
  ): Promise<IndirectUploadAnswer> {
    if (key.size === undefined) return unavailable("the key has no size");
    // Content whose key says nothing of it (WORM, URL, unknown backends) could be anything.
    if (receiveVerification(key).kind !== "hash") {
      return unavailable("the gateway cannot verify content of this key");
    }
    const candidates = await this.#opts.candidates(uuid, key, who.associatedFile, ctx);
    if (typeof candidates === "string") return unavailable(candidates);
    let reason = "no node a put would go to takes indirect uploads";
    for (const c of candidates) {
      const use = this.#opts.connection(c.remote);
      try {
        const storage = storageOf(await use.connection);
        if (typeof storage === "string") {
          if (candidates.length === 1) reason = storage;
          continue;
        }
        if ((await c.peer.checkPresent(key, ctx)).present) {
          return { kind: "alreadyhave", plusUuids: c.plus };
        }
        return await this.#stage(uuid, key, who, c, storage, key.size);
      } finally {
        use.done();
      }
    }
    return unavailable(reason);
  }

  async #stage(
    uuid: string,
    key: Key,
    who: IndirectClient,
    c: IndirectCandidate,
    storage: IndirectStorage,
    size: number,
  ): Promise<IndirectUploadAnswer> {
    const id = pendingId(uuid, key, who.clientUuid);
    const owner = ownerOf(who);
    // The same client asking again for the same key starts afresh; nobody else may.
    const earlier = this.#pending.get(id);
    if (earlier && earlier.owner !== owner) return unavailable(PENDING_ELSEWHERE, 409);
    if (earlier) this.#drop(earlier, true);
    const clientCount = this.#perClient.get(who.address) ?? 0;
    const s = this.#opts.settings;
    if (this.#closed || this.#total >= s.maxPending || clientCount >= s.maxPendingPerClient) {
      return unavailable("too many indirect uploads are pending", 409);
    }
    // Held before the storage is asked, so concurrent offers cannot pass the bounds.
    this.#hold(who.address, 1);
    let staged: IndirectStaged | string;
    try {
      staged = await storage.stage(size, {
        expiresSeconds: s.expiresSeconds,
        ...(s.partSize !== undefined ? { partSize: s.partSize } : {}),
      });
    } catch (e) {
      this.#hold(who.address, -1);
      throw e;
    }
    if (typeof staged === "string") {
      this.#hold(who.address, -1);
      return unavailable(staged);
    }
    const { staging, plan } = staged;
    // One asked for concurrently with this one gives way to it, when it is the same owner's.
    const concurrent = this.#pending.get(id);
    if (concurrent && concurrent.owner !== owner) {
      this.#hold(who.address, -1);
      void this.#withStorage(c.remote, (st) => st.discard(staging));
      return unavailable(PENDING_ELSEWHERE, 409);
    }
    if (concurrent) this.#drop(concurrent, true);
    const ms = Math.max(0, staging.deadline - Date.now());
    const p: Pending = {
      id,
      owner,
      address: who.address,
      remote: c.remote,
      plus: c.plus,
      staging,
      timer: setTimeout(() => this.#drop(p, true), ms).unref(),
    };
    this.#pending.set(id, p);
    this.#sweepAfter(c.remote, staging.deadline);
    const expires = staging.expiresSeconds;
    return plan.kind === "put"
      ? { kind: "put", url: plan.url, expires, ...(plan.headers ? { headers: plan.headers } : {}) }
      : { kind: "parts", parts: plan.parts, expires };
  }

  /**
   * DATA-PRESENT for `key` at `uuid` from `who`: null when no indirect
   * upload of it is pending for `who` (the put is then answered as
   * usual); else the staged content checked, published and recorded
   * (stored, and nothing published, when the node has the key already),
   * or not stored (and discarded) when it is not the key's.
   */
  async complete(
    uuid: string,
    key: Key,
    who: IndirectClient,
    ctx: PeerContext,
  ): Promise<StoreResult | null> {
    const p = this.#pending.get(pendingId(uuid, key, who.clientUuid));
    // Someone else's upload is not theirs to finish (nor to discard).
    if (p === undefined || p.owner !== ownerOf(who)) return null;
    this.#drop(p, false);
    const log = { reqId: ctx.requestId, node: p.remote.name, key: formatKey(key) };
    const use = this.#opts.connection(p.remote);
    try {
      const storage = storageOf(await use.connection);
      if (typeof storage === "string") return NOT_STORED;
      if (Date.now() > p.staging.deadline) {
        await storage.discard(p.staging);
        return NOT_STORED;
      }
      // Not the request's signal: a client gone mid-check does not leave a half-published upload.
      const out = await storage.publish(p.staging, key, this.#opts.settings.verify);
      if (out.readBack > 0) {
        const node = { name: p.remote.name, uuid: p.remote.uuid };
        this.#opts.observer?.nodeBytes(node, "in", out.readBack);
      }
      if (!out.published) {
        this.#opts.logger?.info({ ...log, why: out.reason }, "indirect upload not stored");
        return NOT_STORED;
      }
      await this.#opts.record(key, p.remote.uuid, true).catch((e: unknown) => {
        this.#opts.logger?.error({ ...log, err: errorText(e) }, "recording a location failed");
      });
      return { stored: true, plusUuids: p.plus };
    } catch (e) {
      this.#opts.logger?.warn({ ...log, err: errorText(e) }, "indirect upload failed");
      return NOT_STORED;
    } finally {
      use.done();
    }
  }

  /** Stop: no more uploads; pending ones are left for a later sweep. */
  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    for (const s of this.#sweeps.values()) clearTimeout(s.timer);
    this.#sweeps.clear();
  }

  #hold(address: string, n: number): void {
    const count = (this.#perClient.get(address) ?? 0) + n;
    if (count <= 0) this.#perClient.delete(address);
    else this.#perClient.set(address, count);
    this.#total += n;
  }

  /** No longer pending; with `discard`, its staging is removed (in the background). */
  #drop(p: Pending, discard: boolean): void {
    if (this.#pending.get(p.id) !== p) return;
    this.#pending.delete(p.id);
    clearTimeout(p.timer);
    this.#hold(p.address, -1);
    if (discard) void this.#withStorage(p.remote, (s) => s.discard(p.staging));
  }

  /** The remote's leftovers swept now when it is new here, and after `deadline`. */
  #sweepAfter(remote: Remote, deadline: number): void {
    let s = this.#sweeps.get(remote.uuid);
    if (s === undefined) {
      s = { remote, latest: deadline, timer: undefined };
      this.#sweeps.set(remote.uuid, s);
      void this.#sweep(remote);
    }
    s.latest = Math.max(s.latest, deadline);
    this.#armSweep(s);
  }

  #armSweep(s: Sweeps): void {
    if (s.timer !== undefined || this.#closed) return;
    const ms = Math.max(0, s.latest - Date.now()) + 1000;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void this.#sweep(s.remote).then(() => {
        if (s.latest > Date.now()) this.#armSweep(s);
      });
    }, ms).unref();
  }

  async #sweep(remote: Remote): Promise<void> {
    const live = new Set<string>();
    for (const p of this.#pending.values()) {
      if (p.remote.uuid === remote.uuid) live.add(p.staging.stagingName);
    }
    const removed = await this.#withStorage(remote, (s) => s.sweep(live));
    if (removed) this.#opts.logger?.info({ node: remote.name, removed }, "indirect uploads swept");
  }

  /** Run `f` on the remote's indirect storage, if it has one; failures are logged. */
  async #withStorage<T>(remote: Remote, f: (s: IndirectStorage) => Promise<T>): Promise<T | null> {
    if (this.#closed) return null;
    const use = this.#opts.connection(remote);
    try {
      const storage = storageOf(await use.connection);
      return typeof storage === "string" ? null : await f(storage);
    } catch (e) {
      this.#opts.logger?.warn({ node: remote.name, err: errorText(e) }, "indirect upload cleanup");
      return null;
    } finally {
      use.done();
    }
  }
}

const PENDING_ELSEWHERE = "an indirect upload of this key is pending for another client";

/** Who owns a pending upload: the authenticated user (if any) at an address. */
function ownerOf(who: IndirectClient): string {
  return `${who.user ?? ""}\n${who.address}`;
}

function pendingId(uuid: string, key: Key, clientUuid: string): string {
  return `${uuid}\n${formatKey(key)}\n${clientUuid}`;
}
