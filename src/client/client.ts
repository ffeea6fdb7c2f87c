/**
 * `AnnexClient`: one repository (or cluster) behind a p2phttp server, as a
 * web application or a Node program uses it: presence, download, upload
 * with resume and progress, locks, removal, timestamps. Every request goes
 * through the protocol layer's codec, so it is the same API git-annex
 * speaks; versions 0 to 4 are served as the server offers them.
 */
import { formatKey, genUuid, type Key } from "../keys/portable.js";
import {
  type ApiVersion,
  DATA_LENGTH_HEADER,
  type PutOffsetAnswer,
  parsePresentJson,
  parsePutOffsetJson,
  parseRemovedJson,
  parseStoredJson,
  parseTimestampJson,
  type RemovedAnswer,
  type StoredAnswer,
} from "../protocol/portable.js";
import { type Download, download } from "./download.js";
import { ClientError, RefusedError, UnreachableError } from "./errors.js";
import { askUploadUrl, uploadTo } from "./indirect.js";
import { type ContentLock, lockContent } from "./lock.js";
import { sendPut } from "./put.js";
import { Transport } from "./transport.js";
import { type PutSource, sourceSize } from "./upload.js";

export interface ClientOptions {
  /** `annex+http(s)://HOST[:PORT]/[PATH/]git-annex/` (port 9417 when none is given). */
  readonly url: string;
  /** The UUID of the repository or cluster to use through the server. */
  readonly uuid: string;
  /** This side's UUID, sent as `clientuuid` (default: a new random one). */
  readonly clientUuid?: string;
  /** HTTP basic auth. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** Highest API version to use (default 4). */
  readonly maxVersion?: ApiVersion;
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof fetch;
  /** Bound on each request that does not stream content (ms, default 60000). */
  readonly timeoutMs?: number;
  /**
   * Requests in flight at once, held locks aside (default 8): stock git annex
   * p2phttp serves as many as its --jobs and stalls under many more.
   */
  readonly maxRequests?: number;
  /**
   * A download that makes no progress for this long while it is read is
   * broken off, and continued where it stopped (ms, default 60000).
   */
  readonly stallTimeoutMs?: number;
  /**
   * Further GETs one download may make (default 3): continuing a body that
   * broke off, with or without progress, and (once) re-sending a GET left
   * unanswered for the stall timeout.
   */
  readonly downloadContinuations?: number;
  /** How often a held lock tells the server it is still wanted (ms, default 20000). */
  readonly lockKeepAliveMs?: number;
  /**
   * Whether fetch may stream request bodies (a put's content from any
   * stream, locks held until released). Default: true where there is no
   * XMLHttpRequest (Node), false in browsers, whose fetch streams bodies
   * only over HTTP/2.
   */
  readonly streamBodies?: boolean;
}

export interface PutOptions {
  /** The file name the content has (git-annex's associated file; preferred content may use it). */
  readonly associatedFile?: string;
  /**
   * Ask the server first where an earlier, interrupted upload stopped (or
   * whether it has the content) and send only the rest. Default: for
   * content over 64 KiB; smaller content is sent whole at once (asking
   * would cost a round trip more than sending it).
   */
  readonly resume?: boolean;
  /**
   * Send from this offset without asking the server (a source that is a
   * function is then asked for the content from there).
   */
  readonly offset?: number;
  /** Called as the content goes out: bytes of the whole object sent, and its size. */
  readonly onProgress?: (sent: number, total: number) => void;
  readonly signal?: AbortSignal;
  /**
   * Send the content straight to the object store when the gateway offers
   * it (annexgate's indirect uploads: a Blob or bytes, to an S3 node), then
   * have the gateway check and record it; else a normal put. Default false.
   */
  readonly indirect?: boolean;
}

export interface GetOptions {
  /** The first byte wanted (default 0). */
  readonly offset?: number;
  /** Also check the content against the key's hash (from offset 0 only; default true). */
  readonly verify?: boolean;
  readonly signal?: AbortSignal;
}

/** What a put did: stored (or already there), and the other repositories it reached. */
export type PutResult = StoredAnswer;
export type RemoveResult = RemovedAnswer;

export class AnnexClient {
  readonly uuid: string;
  readonly clientUuid: string;
  readonly #t: Transport;
  readonly #opts: ClientOptions;
  readonly #locks = new Set<ContentLock>();
  #closed = false;

  constructor(opts: ClientOptions) {
    this.#opts = opts;
    this.uuid = opts.uuid;
    this.clientUuid = opts.clientUuid ?? genUuid();
    this.#t = new Transport({
      url: opts.url,
      uuid: opts.uuid,
      clientUuid: this.clientUuid,
      auth: opts.auth,
      maxVersion: opts.maxVersion ?? 4,
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
      timeoutMs: opts.timeoutMs ?? 60_000,
      maxRequests: opts.maxRequests ?? 8,
    });
  }

  /** The API version in use (the highest both sides have, once a request has settled it). */
  get version(): ApiVersion {
    return this.#t.version;
  }

  /** The server's origin (`http(s)://host:port`) and the API's path prefix. */
  get server(): { readonly origin: string; readonly prefix: string } {
    return { origin: this.#t.origin, prefix: this.#t.endpoint.prefix };
  }

  async checkPresent(key: Key, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.#open();
    return (await this.#t.json("checkpresent", { key }, parsePresentJson, opts.signal)).present;
  }

  /** The server's clock for remove-before (v3 and later). */
  getTimestamp(opts: { signal?: AbortSignal } = {}): Promise<number> {
    this.#open();
    return this.#t.json("gettimestamp", {}, parseTimestampJson, opts.signal);
  }

  remove(key: Key, opts: { signal?: AbortSignal } = {}): Promise<RemoveResult> {
    this.#open();
    return this.#t.json("remove", { key }, parseRemovedJson, opts.signal);
  }

  /** Remove unless the server's clock has passed `timestamp` (from getTimestamp; v3 and later). */
  removeBefore(
    key: Key,
    timestamp: number,
    opts: { signal?: AbortSignal } = {},
  ): Promise<RemoveResult> {
    this.#open();
    const query = { key, timestamp: Math.floor(timestamp) };
    return this.#t.json("remove-before", query, parseRemovedJson, opts.signal);
  }

  /** Where an upload of `key` would start: the bytes the server holds of it, or that it has it all. */
  async putOffset(key: Key, opts: { signal?: AbortSignal } = {}): Promise<PutOffsetAnswer> {
    this.#open();
    if ((await this.#confirmedVersion(key, opts.signal)) === 0)
      return { alreadyHave: false, offset: 0 };
    return this.#t.json("putoffset", { key }, parsePutOffsetJson, opts.signal);
  }

  /**
   * Lock the content of `key` on the server so nothing removes it: the lock,
   * or null when the server does not have it. See ContentLock.untilReleased.
   */
  async lockContent(key: Key, opts: { signal?: AbortSignal } = {}): Promise<ContentLock | null> {
    this.#open();
    // Stock git annex p2phttp (10.20250416) keeps a worker for each
    // lockcontent of content it lacks, until it has none left: ask first.
    if (!(await this.checkPresent(key, opts))) return null;
    const lock = await lockContent(this.#t, key, {
      keepAliveMs: this.#opts.lockKeepAliveMs ?? 20_000,
      streamBodies: this.#streamBodies,
      signal: opts.signal,
    });
    if (lock === null) return null;
    this.#locks.add(lock);
    const release = lock.release.bind(lock);
    return {
      lockId: lock.lockId,
      untilReleased: lock.untilReleased,
      lost: lock.lost,
      release: () => release().finally(() => this.#locks.delete(lock)),
    };
  }

  /**
   * Upload the content of `key`. The key's size (or the source's) is what is
   * sent; with `resume` (the default above 64 KiB) only what the server lacks.
   * Resolves with the server's answer; `stored: false` means the server
   * did not keep it (it did not verify, or no repository wanted it).
   */
  async put(key: Key, source: PutSource, opts: PutOptions = {}): Promise<PutResult> {
    this.#open();
    const v = await this.#confirmedVersion(key, opts.signal);
    if (opts.indirect === true && v >= 4) {
      const done = await this.#putIndirect(key, source, opts);
      if (done !== null) return done;
    }
    let offset = opts.offset ?? 0;
    const small = (key.size ?? sourceSize(source) ?? Number.POSITIVE_INFINITY) <= SMALL_CONTENT;
    if (opts.offset === undefined && (opts.resume ?? !small) && v > 0) {
      const at = await this.putOffset(key, opts);
      if (at.alreadyHave) return { stored: true, plusUuids: at.plusUuids };
      offset = at.offset;
    }
    const done = await this.#t.slots.take(opts.signal);
    try {
      return await sendPut(this.#t, v, key, source, offset, {
        ...opts,
        streamBodies: this.#streamBodies,
      });
    } catch (e) {
      done();
      // The answer may be what was lost: ask whether the content arrived.
      if (!(e instanceof UnreachableError) || v === 0) throw e;
      const at = await this.putOffset(key, opts).catch(() => null);
      if (at?.alreadyHave === true) return { stored: true, plusUuids: at.plusUuids };
      throw e;
    } finally {
      done();
    }
  }

  /** An indirect upload, or null when the gateway offers none for this key and content. */
  async #putIndirect(key: Key, source: PutSource, opts: PutOptions): Promise<PutResult | null> {
    if (!(source instanceof Uint8Array || source instanceof Blob) || key.size === undefined) {
      return null;
    }
    const io = { ...opts, streamBodies: this.#streamBodies };
    const answer = await askUploadUrl(this.#t, this.uuid, this.clientUuid, key, io);
    if (answer.kind === "unavailable") return null;
    if (answer.kind === "alreadyhave") return { stored: true, plusUuids: answer.plusUuids };
    await uploadTo(this.#t, answer, key, source, io);
    try {
      return await this.putPresent(key, opts);
    } catch (e) {
      // The gateway may have stored it and the answer been lost: ask.
      if (!(e instanceof UnreachableError)) throw e;
      const at = await this.putOffset(key, opts).catch(() => null);
      if (at?.alreadyHave === true) return { stored: true, plusUuids: at.plusUuids };
      throw e;
    }
  }

  /**
   * Tell the server the content of `key` is already where it keeps it,
   * put there by other means (git-annex's DATA-PRESENT, v4): it checks
   * and records it, and answers as a put does.
   */
  async putPresent(key: Key, opts: { signal?: AbortSignal } = {}): Promise<PutResult> {
    this.#open();
    const v = await this.#confirmedVersion(key, opts.signal);
    if (v < 4) {
      throw new RefusedError("data-present needs p2phttp v4", { version: v, unsupported: true });
    }
    const done = await this.#t.slots.take(opts.signal);
    try {
      const res = await this.#t.send(v, "put", {
        method: "POST",
        query: { dataPresent: true, key },
        headers: {
          "content-type": "application/octet-stream",
          [DATA_LENGTH_HEADER]: String(key.size ?? 0),
        },
        signal: opts.signal,
        // The server checks the content before it answers (an indirect
        // upload's can mean reading gigabytes back): no timeout here.
        timed: false,
      });
      return await this.#t.answer("put", v, res, parseStoredJson, opts.signal);
    } finally {
      done();
    }
  }

  /**
   * Download the content of `key` from `offset`: its length and a stream of
   * it, with `valid` settling once the stream has ended (true when every
   * promised byte came and, if checked, the hash matched); null when the
   * server does not have it.
   */
  async get(key: Key, opts: GetOptions = {}): Promise<Download | null> {
    this.#open();
    const v = await this.#confirmedVersion(key, opts.signal);
    const dl = {
      ...opts,
      stallTimeoutMs: this.#opts.stallTimeoutMs ?? 60_000,
      continuations: this.#opts.downloadContinuations ?? 3,
    };
    return download(this.#t, v, key, dl, () => this.checkPresent(key, opts));
  }

  /** The whole content of `key`, checked; null when the server does not have it. */
  async getBytes(key: Key, opts: { signal?: AbortSignal } = {}): Promise<Uint8Array | null> {
    const got = await this.get(key, opts);
    if (got === null) return null;
    const bytes = new Uint8Array(await new Response(got.body).arrayBuffer());
    if (!(await got.valid)) {
      throw new ClientError(`the content of ${formatKey(key)} did not verify`, {
        key: formatKey(key),
      });
    }
    return bytes;
  }

  /** Release every lock this client holds; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#locks].map((l) => l.release()));
  }

  get #streamBodies(): boolean {
    return this.#opts.streamBodies ?? !("XMLHttpRequest" in globalThis);
  }

  #open(): void {
    if (this.#closed) throw new ClientError("the client is closed", { uuid: this.uuid });
  }

  /** The version for a request that cannot be repeated: found with a checkpresent first if need be. */
  async #confirmedVersion(key: Key, signal: AbortSignal | undefined): Promise<ApiVersion> {
    if (!this.#t.confirmed) await this.checkPresent(key, signal !== undefined ? { signal } : {});
    return this.#t.version;
  }
}

/** Content this small is sent whole without asking putoffset first (one 64 KiB chunk). */
const SMALL_CONTENT = 64 * 1024;

/**
 * A client for the repository or cluster `uuid` behind `url`, its API
 * version settled with the server (so a wrong URL, UUID or password fails
 * here, not at the first upload).
 *
 * @example
 * const client = await connect({ url: "annex+http://127.0.0.1:9417/git-annex/", uuid });
 * const key = await computeKey(file, { fileName: file.name });
 * await client.put(key, file, { onProgress: (sent, total) => show(sent / total) });
 */
export async function connect(opts: ClientOptions): Promise<AnnexClient> {
  const client = new AnnexClient(opts);
  await client.checkPresent(PROBE_KEY);
  return client;
}

/* The empty content's key: any key settles the version; this one names nothing secret. */
const PROBE_KEY: Key = {
  backend: "SHA256E",
  size: 0,
  name: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
};
