/**
 * What the chunked special-remote Peer promises beyond the conformance
 * suite, on a real directory storage: git-annex's chunk layout and chunk
 * log; content that is not its key's leaves no chunk and no log entry,
 * nor does a store cut off; a store resumes at the first missing chunk
 * another left, those chunks hashed again; lookups in git-annex's order (logged lists, whole, speculative).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { chunkKey, formatKey, type Key, keyFile, parseKey } from "../../keys/index.js";
import { sample } from "../conformance.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { MemoryChunkLog } from "./chunk-log.fixture.js";
import { ChunkedPeer } from "./chunked-peer.js";
import { SpecialPeer } from "./special-peer.js";

const UUID = "5b6f4a36-2d4c-4a5e-9f0e-6a1c1f3e8d11";
const CS = 10_000;

/** The object files under `dir`, by file name (tmp files left out). */
async function objectFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.parentPath.slice(dir.length).startsWith("/tmp/"))
    .map((e) => e.name)
    .sort();
}

const chunkNames = (key: Key, cs: number, n: number) =>
  Array.from({ length: n }, (_, i) => keyFile(chunkKey(key, cs, i + 1))).sort();

async function readAll(peer: ChunkedPeer, key: Key, offset = 0): Promise<Buffer | null> {
  const got = await peer.retrieve(key, offset);
  if (got === null) return null;
  const parts: Buffer[] = [];
  for await (const b of got.data as AsyncIterable<Buffer>) parts.push(b);
  assert.equal(await got.valid, true);
  return Buffer.concat(parts);
}

describe("ChunkedPeer over a directory", () => {
  let dir: string;
  let storage: DirectoryStorage;
  let log: MemoryChunkLog;
  let peer: ChunkedPeer;
  const open = (chunkSize: number | null) =>
    new ChunkedPeer({
      uuid: UUID,
      storage,
      whole: new SpecialPeer({ uuid: UUID, storage }),
      chunkSize,
      chunkLog: log,
    });

  beforeEach(async () => {
    dir = await makeTempDir("annexgate-chunked-");
    storage = new DirectoryStorage(dir);
    log = new MemoryChunkLog();
    peer = open(CS);
  });
  afterEach(async () => {
    await peer.close();
    await removeDir(dir);
  });

  const store = (key: Key, data: Buffer, offset = 0) =>
    peer.store({
      key,
      offset,
      length: data.length - offset,
      data: Readable.from([data.subarray(offset)]),
    });

  it("stores chunk keys of the configured size and logs them after the last", async () => {
    const s = sample(25_000);
    assert.equal((await store(s.key, s.data)).stored, true);
    assert.deepEqual(await objectFiles(dir), chunkNames(s.key, CS, 3));
    assert.deepEqual(await log.chunkListings(UUID, s.key), [{ chunkSize: CS, count: 3 }]);
    assert.deepEqual(await readAll(peer, s.key), s.data);
    assert.deepEqual(await readAll(peer, s.key, 12_345), s.data.subarray(12_345));
  });

  it("content that does not match its key leaves no chunk and no log entry", async () => {
    const s = sample(35_000);
    const r = await store(s.key, randomBytes(s.data.length));
    assert.equal(r.stored, false);
    assert.deepEqual(await objectFiles(dir), []);
    assert.deepEqual(await log.chunkListings(UUID, s.key), []);
    assert.equal((await peer.checkPresent(s.key)).present, false);
  });

  /** Chunks `from`..`to` of `data` put straight into the storage, as stock's own interrupted store leaves them. */
  async function putChunks(key: Key, data: Buffer, from: number, to: number) {
    for (let i = from; i <= to; i++) {
      const staged = await storage.stage(formatKey(chunkKey(key, CS, i)));
      staged.sink.end(data.subarray((i - 1) * CS, i * CS));
      await finished(staged.sink);
      await staged.publish();
    }
  }

  it("a store cut off removes the chunks it wrote, and logs nothing", async () => {
    const s = sample(45_000);
    const cut = new Readable({
      read() {
        this.push(s.data.subarray(0, 2 * CS + 5));
        this.destroy(new Error("sender went away"));
      },
    });
    const r = await peer.store({ key: s.key, offset: 0, length: s.data.length, data: cut });
    assert.equal(r.stored, false);
    assert.deepEqual(await objectFiles(dir), []);
    assert.deepEqual(await log.chunkListings(UUID, s.key), []);
    assert.deepEqual(await peer.putOffset(s.key), { alreadyHave: false, offset: 0 });
  });

  it("resumes at the first missing chunk stock left, and hashes those chunks again", async () => {
    const s = sample(45_000);
    await putChunks(s.key, s.data, 1, 2);
    assert.deepEqual(await peer.putOffset(s.key), { alreadyHave: false, offset: 2 * CS });
    assert.equal((await store(s.key, s.data, 2 * CS)).stored, true);
    assert.deepEqual(await log.chunkListings(UUID, s.key), [{ chunkSize: CS, count: 5 }]);
    assert.deepEqual(await readAll(peer, s.key), s.data);

    // A kept chunk that is not the content's fails the resumed store, which removes them all.
    const t = sample(30_000);
    await putChunks(t.key, randomBytes(CS), 1, 1);
    assert.deepEqual(await peer.putOffset(t.key), { alreadyHave: false, offset: CS });
    assert.equal((await store(t.key, t.data, CS)).stored, false);
    assert.deepEqual(
      (await objectFiles(dir)).filter((f) => f.endsWith(keyFile(t.key).split("--")[1] as string)),
      [],
    );
  });

  it("finds content whole, in logged chunks of another size, and speculatively", async () => {
    const whole = sample(15_000);
    assert.equal(
      (
        await open(null).store({
          key: whole.key,
          offset: 0,
          length: 15_000,
          data: Readable.from([whole.data]),
        })
      ).stored,
      true,
    );
    assert.deepEqual(await readAll(peer, whole.key), whole.data);

    // Stored with 4000-byte chunks under an earlier configuration, logged.
    const other = sample(9_000);
    const byOther = open(4000);
    assert.equal(
      (
        await byOther.store({
          key: other.key,
          offset: 0,
          length: 9000,
          data: Readable.from([other.data]),
        })
      ).stored,
      true,
    );
    assert.equal((await peer.checkPresent(other.key)).present, true);
    assert.deepEqual(await readAll(peer, other.key, 5000), other.data.subarray(5000));

    // Chunks of the configured size without a log entry: found, then logged.
    const lost = sample(22_000);
    assert.equal((await store(lost.key, lost.data)).stored, true);
    log.entries.clear();
    assert.equal((await peer.checkPresent(lost.key)).present, true);
    assert.deepEqual(await log.chunkListings(UUID, lost.key), [{ chunkSize: CS, count: 3 }]);

    // An unchunked remote still finds logged chunks.
    assert.deepEqual(await readAll(open(null), lost.key), lost.data);
  });

  it("remove deletes every chunk and logs the chunk size as removed", async () => {
    const s = sample(21_000);
    await store(s.key, s.data);
    assert.equal((await peer.remove(s.key)).removed, true);
    assert.deepEqual(await objectFiles(dir), []);
    assert.deepEqual(log.entries.get(`${UUID} ${formatKey(s.key)}`), new Map([[CS, 0]]));
    assert.equal((await peer.checkPresent(s.key)).present, false);
  });

  it("a sender that checks the content itself (a cluster fan-out) decides what is kept", async () => {
    const s = sample(25_000);
    const send = (checked: boolean) =>
      peer.store({
        key: s.key,
        offset: 0,
        length: s.data.length,
        data: Readable.from([randomBytes(s.data.length)]),
        checkedBySender: Promise.resolve(checked),
      });
    assert.equal((await send(false)).stored, false);
    assert.deepEqual(await objectFiles(dir), []);
    // Trusted as the sender says: the bytes themselves are not hashed again.
    assert.equal((await send(true)).stored, true);
    assert.deepEqual(await objectFiles(dir), chunkNames(s.key, CS, 3));
  });

  it("a chunk missing mid-list ends the retrieve invalid", async () => {
    const s = sample(25_000);
    await store(s.key, s.data);
    await storage.remove(formatKey(chunkKey(s.key, CS, 2)));
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got !== null);
    got.data.resume();
    assert.equal(await got.valid, false);
    assert.equal((await peer.checkPresent(s.key)).present, false);
  });

  it("stores unstable keys (URL) whole, as git-annex never chunks them", async () => {
    const data = randomBytes(25_000);
    const key = parseKey(`URL-s${data.length}--http://example.org/x`);
    assert.equal((await store(key, data)).stored, true);
    assert.deepEqual(await objectFiles(dir), [keyFile(key)]);
    assert.deepEqual(await log.chunkListings(UUID, key), []);
    assert.deepEqual(await readAll(peer, key), data);
  });
});
