/**
 * What the object store's unit tests share: an empty store in a temporary
 * directory for each test, keys and content made from bytes, a file check,
 * waiting for an event, and an upload under way.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach } from "node:test";
import { makeTempDir, removeDir } from "../../test/helpers/index.js";
import { type Key, parseKey } from "../keys/index.js";
import { ObjectStore, type ReceiveResult, repositoryLayout } from "./index.js";

export interface TempStore {
  /** The temporary directory, removed after the test. */
  readonly dir: string;
  /** The annex directory of the store (`<dir>/annex`, mixed-case hashing). */
  readonly annex: string;
  readonly store: ObjectStore;
}

/**
 * Registers the hooks (call it inside `describe`): before each test a new
 * store is made and given to `use`; after it, its directory is removed.
 */
export function storePerTest(prefix: string, use: (s: TempStore) => void): void {
  let dir: string | undefined;
  beforeEach(async () => {
    dir = await makeTempDir(prefix);
    const annex = join(dir, "annex");
    use({ dir, annex, store: new ObjectStore(repositoryLayout(annex, "mixed")) });
  });
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
  });
}

/** The SHA256E key git-annex would give `data` in a file ending in `ext`. */
export function sha256eKey(data: Buffer, ext = ".bin"): Key {
  const hex = createHash("sha256").update(data).digest("hex");
  return parseKey(`SHA256E-s${data.length}--${hex}${ext}`);
}

/** `n` bytes of a pattern that `seed` varies. */
export function content(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Waits, bounded by count and time, until `cond` holds. */
export async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

/** An upload the test drives by hand: what is still to come goes in through `sender`. */
export interface UploadUnderWay {
  readonly key: Key;
  readonly sender: PassThrough;
  readonly receiving: Promise<ReceiveResult>;
}

/**
 * Starts a receive of `data` (its SHA256E key) into `store` and sends the
 * first `sent` bytes; answers once they are in the temp file.
 */
export async function uploadUnderWay(
  store: ObjectStore,
  data: Buffer,
  sent: number,
  signal?: AbortSignal,
): Promise<UploadUnderWay> {
  const key = sha256eKey(data);
  const sender = new PassThrough();
  const receiving = store.receive(key, 0, data.length, sender, signal);
  sender.write(data.subarray(0, sent));
  await until(`${sent} bytes in the temp file`, async () => (await store.tmpSize(key)) >= sent);
  return { key, sender, receiving };
}
