/**
 * The directory storage keeps git-annex's layout (Remote/Directory.hs):
 * objects at `<dir>/<hashdirlower>/<keyFile>/<keyFile>`, write-protected,
 * found under the mixed-case hash directory too; removal tidies emptied
 * hash directories; a staged object is invisible until published.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { formatKey, hashDirLower, hashDirMixed, keyFile, parseKey } from "../../keys/index.js";
import { FcntlLocks } from "../../locks/index.js";
import { sample, storeAll } from "../conformance.js";
import { PeerRefusedError } from "../peer.js";
import { SpecialPeer } from "../special/special-peer.js";
import { DirectoryStorage } from "./directory-storage.js";

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

describe("DirectoryStorage", () => {
  let dir: string;
  let storage: DirectoryStorage;

  beforeEach(async () => {
    dir = await makeTempDir("annexgate-dirstorage-");
    storage = new DirectoryStorage(dir);
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it("publishes at <hashdirlower>/<keyFile>/<keyFile>, write-protected, tmp emptied", async () => {
    // A key with the characters keyFile escapes.
    const s = sample(5000, ".a&b%c:d");
    const peer = new SpecialPeer({ uuid: "u", storage });
    const r = await storeAll(peer, s);
    assert.equal(r.stored, true);
    const kf = keyFile(s.key);
    assert.match(kf, /\.a&ab&sc&cd$/);
    const file = join(dir, hashDirLower(s.key), kf, kf);
    const st = await stat(file);
    assert.equal(st.mode & 0o222, 0, `file mode ${st.mode.toString(8)}`);
    assert.equal((await stat(join(dir, hashDirLower(s.key), kf))).mode & 0o222, 0, "key dir");
    assert.deepEqual(await readdir(join(dir, "tmp")), [], "the key's tmp directory was renamed");
    assert.ok(
      (await readAll((await storage.read(formatKey(s.key), 0))?.data as Readable)).equals(s.data),
    );
  });

  it("a staged object is invisible until published, and gone when discarded", async () => {
    const s = sample(2000);
    const name = formatKey(s.key);
    const staged = await storage.stage(name);
    staged.sink.end(s.data);
    await new Promise((r) => staged.sink.once("finish", r));
    assert.equal(await storage.has(name), false);
    assert.equal(await storage.read(name, 0), null);
    assert.equal(await storage.stagedLength(name), 2000);
    await staged.discard();
    assert.equal(await storage.stagedLength(name), 0);
    assert.equal(await storage.has(name), false);
  });

  it("finds objects under the mixed-case hash directory older git-annex wrote, and removes them", async () => {
    const key = parseKey(
      "SHA256E-s3--0000000000000000000000000000000000000000000000000000000000000000.txt",
    );
    const kf = keyFile(key);
    const mixed = join(dir, hashDirMixed(key), kf);
    await mkdir(mixed, { recursive: true });
    await writeFile(join(mixed, kf), "abc");
    const name = formatKey(key);
    assert.equal(await storage.has(name), true);
    const got = await storage.read(name, 1);
    assert.equal(got?.length, 2);
    assert.equal((await readAll(got?.data as Readable)).toString(), "bc");
    await storage.remove(name);
    assert.equal(await storage.has(name), false);
    // Emptied hash directories go too; the remote's own directory stays.
    assert.deepEqual(await readdir(dir), []);
  });

  it("removal keeps hash directories other objects still use", async () => {
    const peer = new SpecialPeer({ uuid: "u", storage });
    const a = sample(100);
    const b = sample(100);
    for (const s of [a, b]) {
      const r = await storeAll(peer, s);
      assert.equal(r.stored, true);
    }
    await storage.remove(formatKey(a.key));
    assert.equal(await storage.has(formatKey(a.key)), false);
    assert.equal(await storage.has(formatKey(b.key)), true);
    await storage.remove(formatKey(a.key)); // absent: not an error
  });

  it("refuses a store that would eat into annex.diskreserve, before writing anything", async () => {
    const greedy = new DirectoryStorage(dir, { diskReserve: 10n ** 18n });
    const s = sample(100);
    await assert.rejects(greedy.stage(formatKey(s.key)), (e: unknown) => {
      assert.ok(e instanceof PeerRefusedError);
      assert.match(e.message, /^Not enough free disk space: need .* more/);
      assert.ok(!e.message.includes(dir));
      return true;
    });
    assert.deepEqual(await readdir(dir), []);
  });

  it("one writer per staged key: another stager, here or in another process, is refused", async () => {
    const s = sample(100);
    const name = formatKey(s.key);
    const first = await storage.stage(name);
    const here = new DirectoryStorage(dir);
    const busy = (e: unknown) =>
      e instanceof PeerRefusedError && /^transfer already in progress/.test(e.message);
    await assert.rejects(here.stage(name), busy);
    await first.discard();
    await (await here.stage(name)).discard();
    // Another process (its own lock helper) holds the key's staging lock.
    const elsewhere = new FcntlLocks();
    try {
      const kf = keyFile(s.key);
      const held = await elsewhere.tryLock(join(dir, "tmp", `${kf}.lck`), "exclusive");
      assert.ok(held);
      await assert.rejects(storage.stage(name), busy);
      await held.release();
      await (await storage.stage(name)).discard();
    } finally {
      elsewhere.close();
    }
    assert.deepEqual(await readdir(join(dir, "tmp")), [], "no partial, no lock file left");
  });

  it("by path, a rename makes the target's directories and removes the source's emptied ones", async () => {
    const files = storage.byPath;
    await mkdir(join(dir, "a", "b"), { recursive: true });
    await writeFile(join(dir, "a", "b", "f.txt"), "moved\n");
    await writeFile(join(dir, "kept.txt"), "kept\n");
    await files.rename("a/b/f.txt", "x/y/g.txt");
    const got = await files.read("x/y/g.txt", 0);
    assert.equal((await readAll((got as { data: Readable }).data)).toString(), "moved\n");
    assert.equal(await files.has("a/b/f.txt"), false);
    assert.deepEqual((await readdir(dir)).sort(), ["kept.txt", "x"], "a/b went with its file");
    // A rename onto an existing file replaces it; a missing source fails and changes nothing.
    await files.rename("x/y/g.txt", "kept.txt");
    assert.equal(await files.has("kept.txt"), true);
    await assert.rejects(files.rename("nothing.txt", "kept.txt"));
    assert.equal(await files.has("kept.txt"), true);
  });
});
