/**
 * An encrypted special remote's storage (any `encryption=` but none), as a
 * decorator over the kind's own storage: each object is kept under
 * git-annex's encrypted name (`GPGHMACSHA1--…`, see remote-cipher.ts) as a
 * gpg message of its content (symmetric with the cipher for shared and
 * hybrid, to the public keys for pubkey and sharedpubkey), exactly as
 * stock stores it, so a stock repository reads what the gateway stored
 * and the reverse.
 *
 * The Peer above sees plain content: it hashes what it stages and what it
 * reads, so nothing unverified is published. Encrypted objects are not
 * resumed (a partial gpg message cannot be continued): `stagedLength` is
 * 0 and an unpublished stage is always dropped.
 */
import { type Readable, Transform, type TransformCallback, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseKey } from "../../keys/index.js";
import { waitForDrain } from "../../util/index.js";
import { PeerProtocolError, PeerRefusedError } from "../peer.js";
import { type GpgOptions, type GpgProcess, gpgDecrypt, gpgEncrypt } from "./gpg.js";
import { encryptedName, type RemoteEncryption } from "./remote-cipher.js";
import type { SpecialStorage, StagedObject, StoredObject } from "./storage.js";

export interface EncryptedStorageOptions {
  /** The gpg program (git's `gpg.program`), else `gpg`. */
  readonly gpgProgram?: string;
  /**
   * Why nothing can be stored (the keyring lacks a recipient's public
   * key): every store is refused with it, in words meant for the client.
   */
  readonly refuseStore?: string;
  /** Why nothing can be read (the keyring holds no secret key): every retrieval of a present object is refused with it. */
  readonly refuseRead?: string;
}

/**
 * How long the plain content of the object `name` is, from the key it
 * names: a chunk key's chunk is its chunk size, or what is left of the
 * content after the chunks before it. Null when the key does not say.
 */
export function plainLength(name: string): number | null {
  let key: ReturnType<typeof parseKey>;
  try {
    key = parseKey(name);
  } catch {
    return null;
  }
  if (key.size === undefined) return null;
  if (key.chunkSize === undefined || key.chunkNumber === undefined) return key.size;
  const before = key.chunkSize * Math.max(0, key.chunkNumber - 1);
  return Math.max(0, Math.min(key.chunkSize, key.size - before));
}

class DecryptedLengthError extends PeerProtocolError {}

/**
 * The decrypted bytes from `offset` on, ending only when gpg said the
 * whole message was good (its MDC is checked at the end): exactly
 * `expected` bytes in all, else an error.
 */
class PlainWindow extends Transform {
  #seen = 0;
  constructor(
    private readonly offset: number,
    private readonly expected: number,
    private readonly gpg: GpgProcess,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const start = this.#seen;
    this.#seen += chunk.length;
    if (this.#seen > this.expected) {
      cb(new DecryptedLengthError("the decrypted object is longer than its key says"));
      return;
    }
    cb(
      null,
      start >= this.offset ? chunk : chunk.subarray(Math.min(chunk.length, this.offset - start)),
    );
  }
  override _flush(cb: TransformCallback): void {
    this.gpg.done.then(
      () => {
        if (this.#seen === this.expected) cb();
        else cb(new DecryptedLengthError("the decrypted object is shorter than its key says"));
      },
      (e: unknown) => cb(e as Error),
    );
  }
}

export class EncryptedStorage implements SpecialStorage {
  readonly #inner: SpecialStorage;
  readonly #enc: RemoteEncryption;
  readonly #opts: EncryptedStorageOptions;
  readonly #program: string | undefined;

  constructor(inner: SpecialStorage, enc: RemoteEncryption, opts: EncryptedStorageOptions = {}) {
    this.#inner = inner;
    this.#enc = enc;
    this.#opts = opts;
    this.#program = opts.gpgProgram;
  }

  #gpg(userOptions: readonly string[]): GpgOptions {
    return {
      keying: this.#enc.keying,
      userOptions,
      ...(this.#program !== undefined ? { program: this.#program } : {}),
    };
  }

  #name(name: string): string {
    return encryptedName(this.#enc, name);
  }

  async stage(
    name: string,
    opts: { resumeFrom?: number; signal?: AbortSignal } = {},
  ): Promise<StagedObject> {
    if ((opts.resumeFrom ?? 0) > 0) {
      // stagedLength answers 0, so the Peer never asks; refuse if anyone does.
      throw new PeerRefusedError("an encrypted object cannot be resumed");
    }
    if (this.#opts.refuseStore !== undefined) {
      throw new PeerRefusedError(this.#opts.refuseStore, { forClient: true });
    }
    const inner = await this.#inner.stage(
      this.#name(name),
      opts.signal ? { signal: opts.signal } : {},
    );
    const gpg = gpgEncrypt(this.#gpg(this.#enc.encryptOptions));
    const written = Promise.all([pipeline(gpg.output, inner.sink), gpg.done]);
    written.catch(() => undefined);
    const sink = encryptingSink(gpg, written);
    let finished = false;
    return {
      sink,
      publish: async () => {
        await written;
        await inner.publish();
        finished = true;
      },
      discard: async () => {
        if (finished) return;
        finished = true;
        gpg.kill();
        sink.destroy();
        await written.catch(() => undefined);
        // Part of a gpg message cannot be continued: never kept.
        await inner.discard();
      },
    };
  }

  async stagedLength(): Promise<number> {
    return 0;
  }

  async read(name: string, offset: number, signal?: AbortSignal): Promise<StoredObject | null> {
    const encName = this.#name(name);
    if (this.#opts.refuseRead !== undefined) {
      // Absent is still absent; only present content is refused.
      if (!(await this.#inner.has(encName, signal))) return null;
      throw new PeerRefusedError(this.#opts.refuseRead, { forClient: true });
    }
    const known = plainLength(name);
    const total = known ?? (await this.#measure(encName, signal));
    if (total === null) return null;
    const stored = await this.#inner.read(encName, 0, signal);
    if (stored === null) return null;
    const gpg = gpgDecrypt(this.#gpg(this.#enc.decryptOptions));
    const window = new PlainWindow(Math.min(offset, total), total, gpg);
    feed(stored.data, gpg, window);
    gpg.output.on("error", (e) => window.destroy(e));
    gpg.output.pipe(window);
    window.on("close", () => {
      gpg.kill();
      if (!stored.data.destroyed) stored.data.destroy();
    });
    return { length: Math.max(0, total - offset), data: window };
  }

  /**
   * The plain length of an object whose key does not say it: decrypted
   * once, counted and thrown away (no copy of the content is kept here).
   */
  async #measure(encName: string, signal?: AbortSignal): Promise<number | null> {
    const stored = await this.#inner.read(encName, 0, signal);
    if (stored === null) return null;
    const gpg = gpgDecrypt(this.#gpg(this.#enc.decryptOptions));
    let count = 0;
    const counting = new Writable({
      write(chunk: Buffer, _e, cb) {
        count += chunk.length;
        cb();
      },
    });
    try {
      await Promise.all([
        pipeline(stored.data, gpg.input).catch(async (e: unknown) => {
          throw await whyFeedFailed(stored.data, gpg, e);
        }),
        pipeline(gpg.output, counting),
        gpg.done,
      ]);
    } finally {
      gpg.kill();
    }
    return count;
  }

  has(name: string, signal?: AbortSignal): Promise<boolean> {
    return this.#inner.has(this.#name(name), signal);
  }

  remove(name: string, signal?: AbortSignal): Promise<void> {
    return this.#inner.remove(this.#name(name), signal);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Feed the stored ciphertext to gpg; a failure of either ends `out` with it. */
function feed(data: Readable, gpg: GpgProcess, out: Transform): void {
  pipeline(data, gpg.input).catch(async (e: unknown) => {
    out.destroy((await whyFeedFailed(data, gpg, e)) as Error);
  });
}

/**
 * The error to report when feeding gpg failed: the storage's own, when it
 * was the storage that failed; else gpg's (a gpg that refused the message
 * closes its input, and the broken pipe says nothing).
 */
async function whyFeedFailed(data: Readable, gpg: GpgProcess, e: unknown): Promise<unknown> {
  if (data.errored) {
    gpg.kill();
    return data.errored;
  }
  return gpg.done.then(
    () => e,
    (gpgFailure: unknown) => gpgFailure,
  );
}

/**
 * Where the Peer writes plain content: into gpg, with gpg's backpressure.
 * Ending it waits until gpg exited well and its whole message is written
 * into the storage's staged object; any failure on the way is its error.
 */
function encryptingSink(gpg: GpgProcess, written: Promise<unknown>): Writable {
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      if (gpg.input.write(chunk)) cb();
      else
        waitForDrain(gpg.input, () => new Error("gpg stopped reading")).then(
          () => cb(),
          (e: unknown) => cb(e as Error),
        );
    },
    final(cb) {
      gpg.input.end();
      written.then(
        () => cb(),
        (e: unknown) => cb(e as Error),
      );
    },
  });
  written.catch((e: unknown) => {
    if (!sink.writableFinished) sink.destroy(e as Error);
  });
  return sink;
}
