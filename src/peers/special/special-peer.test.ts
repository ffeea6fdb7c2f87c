/**
 * What the special-remote Peer promises beyond the conformance suite, on a
 * real directory storage in a temp dir: content that is not its key's
 * leaves nothing anywhere; an aborted store leaves nothing visible (only
 * the partial kept for a resume); a resumed store hashes the kept bytes
 * again, so a partial changed on disk is never published; keys are
 * verified as the local repository verifies them.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, open, readdir, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir, waitFor } from "../../../test/helpers/index.js";
import { formatKey, hashDirLower, type Key, keyFile, parseKey } from "../../keys/index.js";
import { sample } from "../conformance.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { PeerUnreachableError } from "../peer.js";
import { SpecialPeer } from "./special-peer.js";

const UUID = "5b6f4a36-2d4c-4a5e-9f0e-6a1c1f3e8d11";

/** Every regular file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** Sends `first`, then waits until `release` is called and fails (a sender gone mid-upload). */
function stallingThenFailing(first: Buffer): { data: Readable; release(): void } {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let sent = false;
  const data = new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(first);
      void released.then(() => this.destroy(new Error("sender went away")));
    },
  });
  return { data, release };
}

describe("SpecialPeer over a directory", () => {
  let dir: string;
  let peer: SpecialPeer;
  let storage: DirectoryStorage;

  beforeEach(async () => {
    dir = await makeTempDir("annexgate-specialpeer-");
    storage = new DirectoryStorage(dir);
    peer = new SpecialPeer({ uuid: UUID, storage });
  });
  afterEach(async () => {
    await peer.close();
    await removeDir(dir);
  });

  /** Stores `data` under `key` from `offset` on (what comes before is the storage's). */
  const storeFrom = (key: Key, data: Buffer, offset = 0) =>
    peer.store({
      key,
      offset,
      length: data.length - offset,
      data: Readable.from([data.subarray(offset)]),
    });

  it("content that does not match its key leaves no file anywhere", async () => {
    const s = sample(300_000);
    const wrong = randomBytes(s.data.length);
    const r = await peer.store({
      key: s.key,
      offset: 0,
      length: wrong.length,
      data: Readable.from([wrong]),
    });
    assert.equal(r.stored, false);
    assert.deepEqual(await filesUnder(dir), [], "a file was left behind");
    assert.equal((await peer.checkPresent(s.key)).present, false);
    assert.deepEqual(await peer.putOffset(s.key), { alreadyHave: false, offset: 0 });
  });

  it("more bytes than promised: nothing stored, nothing left", async () => {
    const s = sample(10_000);
    const r = await peer.store({
      key: s.key,
      offset: 0,
      length: s.data.length,
      data: Readable.from([Buffer.concat([s.data, Buffer.from("x")])]),
    });
    assert.equal(r.stored, false);
    assert.deepEqual(await filesUnder(dir), []);
  });

  it("a client abort mid-stream leaves nothing visible, and the partial resumes", async () => {
    const s = sample(1_000_000);
    const half = 400_000;
    const sender = stallingThenFailing(s.data.subarray(0, half));
    const aborter = new AbortController();
    const storing = peer.store(
      { key: s.key, offset: 0, length: s.data.length, data: sender.data },
      { signal: aborter.signal },
    );
    // Abort once the first bytes are on the storage's disk.
    await waitFor(
      "the first bytes staged",
      async () => (await storage.stagedLength(formatKey(s.key))) > 0,
    );
    aborter.abort();
    const r = await storing;
    sender.release();
    assert.equal(r.stored, false);
    assert.equal((await peer.checkPresent(s.key)).present, false);
    assert.equal(await peer.retrieve(s.key, 0), null);
    const kf = keyFile(s.key);
    assert.deepEqual(await filesUnder(dir), [`tmp/${kf}/${kf}`], "only the partial is kept");
    const po = await peer.putOffset(s.key);
    assert.ok(!po.alreadyHave && po.offset > 0 && po.offset <= half, JSON.stringify(po));
    const resumed = await storeFrom(s.key, s.data, po.offset);
    assert.equal(resumed.stored, true);
    assert.equal(
      (await storage.stagedLength(formatKey(s.key))) === 0,
      true,
      "partial gone once published",
    );
  });

  it("a resumed store hashes the kept bytes again: a changed partial is never published", async () => {
    const s = sample(500_000);
    const sender = stallingThenFailing(s.data.subarray(0, 200_000));
    const storing = peer.store({ key: s.key, offset: 0, length: s.data.length, data: sender.data });
    await waitFor(
      "the first bytes staged",
      async () => (await storage.stagedLength(formatKey(s.key))) > 0,
    );
    sender.release();
    assert.equal((await storing).stored, false);
    const po = await peer.putOffset(s.key);
    assert.ok(!po.alreadyHave && po.offset > 10);
    // Someone changes a kept byte on the storage's disk.
    const kf = keyFile(s.key);
    const fh = await open(join(dir, "tmp", kf, kf), "r+");
    await fh.write(Buffer.from([(s.data[5] as number) ^ 0xff]), 0, 1, 5);
    await fh.close();
    const r = await storeFrom(s.key, s.data, po.offset);
    assert.equal(r.stored, false);
    assert.equal((await peer.checkPresent(s.key)).present, false);
    assert.deepEqual(await filesUnder(dir), [], "the bad partial is dropped");
    // A resume offset beyond what was kept is refused, nothing written.
    const beyond = await storeFrom(s.key, s.data, 1000);
    assert.equal(beyond.stored, false);
    assert.deepEqual(await filesUnder(dir), []);
  });

  it("verifies keys as the local repository does: WORM by size, VURL refused", async () => {
    const bytes = Buffer.from("some content");
    const worm = parseKey(`WORM-s${bytes.length}-m1700000000--file.txt`);
    const ok = await storeFrom(worm, bytes);
    assert.equal(ok.stored, true);
    const vurl = parseKey(`VURL-s${bytes.length}--https&c%%example.com%f`);
    const refused = await storeFrom(vurl, bytes);
    assert.equal(refused.stored, false);
    assert.equal((await peer.checkPresent(vurl)).present, false);
  });

  it("a directory that is gone is unreachable, never absent, and no error names its path", async () => {
    const s = sample(1000);
    await rm(dir, { recursive: true });
    const failures = [
      () => peer.checkPresent(s.key),
      () => peer.retrieve(s.key, 0),
      () => peer.putOffset(s.key),
      () => peer.remove(s.key),
      () => peer.store({ key: s.key, offset: 0, length: 1000, data: Readable.from([s.data]) }),
    ];
    for (const f of failures) {
      await assert.rejects(f(), (e: unknown) => {
        assert.ok(e instanceof PeerUnreachableError, String(e));
        assert.ok(!e.message.includes(dir), e.message);
        assert.match(e.message, /not accessible/);
        return true;
      });
    }
  });

  it("a download whose object shrinks under it ends short and is not valid", async () => {
    const s = sample(3_000_000);
    const r = await peer.store({
      key: s.key,
      offset: 0,
      length: 3_000_000,
      data: Readable.from([s.data]),
    });
    assert.equal(r.stored, true);
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    const parts: Buffer[] = [];
    let cut = false;
    for await (const chunk of got.data as AsyncIterable<Buffer>) {
      parts.push(chunk);
      if (!cut) {
        cut = true;
        // Someone truncates the object on the remote mid-download.
        const kf = keyFile(s.key);
        const file = join(dir, hashDirLower(s.key), kf, kf);
        await chmod(file, 0o644);
        await truncate(file, 0);
      }
    }
    const received = Buffer.concat(parts).length;
    assert.ok(received < got.length, `received ${received} of ${got.length}`);
    assert.equal(await got.valid, false);
  });
});
