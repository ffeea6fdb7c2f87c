/**
 * What the object store's unit tests share: an empty store in a temporary
 * directory for each test, keys and content made from bytes, a file check.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach } from "node:test";
import { makeTempDir, removeDir } from "../../test/helpers/index.js";
import { type Key, parseKey } from "../keys/index.js";
import { ObjectStore, repositoryLayout } from "./index.js";

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
