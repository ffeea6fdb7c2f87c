import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { describe, it } from "node:test";
import { hashDirLower, hashDirMixed, type Key, keyFile, parseKey } from "../keys/index.js";
import { type HashDirScheme, ObjectStore, repositoryLayout } from "./index.js";
import {
  content,
  exists,
  sha256eKey,
  storePerTest,
  until,
  uploadUnderWay,
} from "./store.fixture.js";

/** A source that sends `chunks` one by one and then ends. */
function source(...chunks: Buffer[]): Readable {
  return Readable.from(chunks, { objectMode: false });
}

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!(await exists(dir))) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("ObjectStore", () => {
  let annex: string;
  let store: ObjectStore;

  storePerTest("annexgate-store-", (s) => {
    ({ annex, store } = s);
  });

  /** After a refused receive: no object, and no partial upload kept to resume. */
  async function assertNothingKept(key: Key): Promise<void> {
    assert.equal(await store.has(key), false);
    assert.equal(await exists(store.tmpFile(key)), false);
  }

  describe("receive of a whole object", () => {
    for (const layout of ["mixed", "lower"] as HashDirScheme[]) {
      it(`verifies it and freezes it in place (${layout} layout)`, async () => {
        const s = new ObjectStore(repositoryLayout(annex, layout));
        const data = content(100_000);
        const key = sha256eKey(data, ".txt");
        // Several chunks, so the digest spans writes.
        const r = await s.receive(
          key,
          0,
          data.length,
          source(data.subarray(0, 10), data.subarray(10, 70_000), data.subarray(70_000)),
        );
        assert.deepEqual(r, { ok: true });

        const file = s.objectFile(key);
        const kf = keyFile(key);
        const hashDir = layout === "mixed" ? hashDirMixed(key) : hashDirLower(key);
        assert.equal(relative(join(annex, "objects"), file), `${hashDir}/${kf}/${kf}`);
        const shape =
          layout === "mixed"
            ? /^[0-9A-Za-z]{2}\/[0-9A-Za-z]{2}\/([^/]+)\/\1$/
            : /^[0-9a-f]{3}\/[0-9a-f]{3}\/([^/]+)\/\1$/;
        assert.match(relative(join(annex, "objects"), file), shape);

        assert.deepEqual(await readFile(file), data);
        assert.equal((await stat(file)).mode & 0o777, 0o444);
        assert.equal((await stat(join(file, ".."))).mode & 0o777, 0o555);
        assert.equal(await exists(s.tmpFile(key)), false);
        assert.deepEqual(await filesUnder(join(annex, "tmp")), []);
        assert.equal(await s.has(key), true);
        assert.equal(await s.size(key), data.length);
        assert.equal(await s.tmpSize(key), 0);
      });
    }

    it("stores an empty object", async () => {
      const key = sha256eKey(Buffer.alloc(0));
      assert.deepEqual(await store.receive(key, 0, 0, source()), { ok: true });
      assert.equal(await store.size(key), 0);
    });
  });

  it("keeps a short body in tmp, and a resume from there completes it", async () => {
    const data = content(5000);
    const key = sha256eKey(data);
    const r1 = await store.receive(key, 0, data.length, source(data.subarray(0, 1234)));
    assert.deepEqual(r1, { ok: false, reason: "short" });
    assert.equal(await store.has(key), false);
    assert.equal(await store.tmpSize(key), 1234);
    assert.deepEqual(await readFile(store.tmpFile(key)), data.subarray(0, 1234));

    const r2 = await store.receive(key, 1234, data.length - 1234, source(data.subarray(1234)));
    assert.deepEqual(r2, { ok: true });
    assert.deepEqual(await readFile(store.objectFile(key)), data);
    assert.equal(await exists(store.tmpFile(key)), false);
  });

  it("a resume whose earlier bytes on disk are wrong is a mismatch", async () => {
    const data = content(1000);
    const key = sha256eKey(data);
    await mkdir(join(annex, "tmp"), { recursive: true });
    const bad = Buffer.from(data.subarray(0, 400));
    bad[3] = (bad[3] ?? 0) ^ 0xff;
    await writeFile(store.tmpFile(key), bad);
    const r = await store.receive(key, 400, 600, source(data.subarray(400)));
    assert.deepEqual(r, { ok: false, reason: "mismatch" });
    await assertNothingKept(key);
  });

  it('stores keys with "/" under git-annex\'s escaped file name', async () => {
    const key = parseKey("WORM-s5-m1--sub/dir/../f.txt");
    assert.deepEqual(await store.receive(key, 0, 5, source(Buffer.from("hello"))), { ok: true });
    assert.equal(relative(join(annex, "objects"), store.objectFile(key)).split("/").length, 4);
    assert.equal(await readFile(store.objectFile(key), "utf8"), "hello");
  });

  it("stores unknown backends and chunk keys as git-annex does, and refuses what it cannot check", async () => {
    const hello = () => source(Buffer.from("hello"));
    assert.deepEqual(await store.receive(parseKey("FOOBAR-s5--x"), 0, 5, hello()), { ok: true });
    assert.deepEqual(await store.receive(parseKey("WORM-s5-S2-C1--x"), 0, 5, hello()), {
      ok: true,
    });
    const chunk = parseKey("SHA256E-s5-S2-C1--abc");
    assert.deepEqual(await store.receive(chunk, 0, 5, hello()), { ok: false, reason: "mismatch" });
    const skein = parseKey("SKEIN256-s5--abc");
    assert.deepEqual(await store.receive(skein, 0, 5, hello()), {
      ok: false,
      reason: "unverifiable",
    });
    assert.equal(await store.has(skein), false);
  });

  it("a key name too long for the disk is refused, not a failure", async () => {
    const key = parseKey(`WORM-s5--${"a".repeat(300)}`);
    const r = await store.receive(key, 0, 5, source(Buffer.from("hello")));
    assert.deepEqual(r, { ok: false, reason: "name-too-long" });
    assert.equal(await store.has(key), false);
  });

  const longBodies: [string, (data: Buffer) => Buffer[]][] = [
    ["in a chunk after the last", (data) => [data, Buffer.from("extra")]],
    ["inside one chunk", (data) => [Buffer.concat([data, data])]],
  ];
  for (const [where, chunks] of longBodies) {
    it(`discards a long body that overruns ${where}, and stores nothing`, async () => {
      const data = content(3000);
      const key = sha256eKey(data);
      const r = await store.receive(key, 0, data.length, source(...chunks(data)));
      assert.deepEqual(r, { ok: false, reason: "long" });
      await assertNothingKept(key);
    });
  }

  it("refuses content that does not match the key", async () => {
    const data = content(2048);
    const key = sha256eKey(data);
    const wrong = content(2048, 2);
    const r = await store.receive(key, 0, wrong.length, source(wrong));
    assert.deepEqual(r, { ok: false, reason: "mismatch" });
    await assertNothingKept(key);
    assert.deepEqual(await filesUnder(join(annex, "objects")), []);
  });

  it("relies on the sender's own check of a whole upload, and refuses when it fails", async () => {
    const data = content(4096);
    const key = sha256eKey(data);
    const refused = await store.receive(
      key,
      0,
      data.length,
      source(data),
      undefined,
      Promise.resolve(false),
    );
    assert.deepEqual(refused, { ok: false, reason: "mismatch" });
    await assertNothingKept(key);
    const ok = await store.receive(
      key,
      0,
      data.length,
      source(data),
      undefined,
      Promise.resolve(true),
    );
    assert.deepEqual(ok, { ok: true });
    assert.equal(await store.has(key), true);
  });

  it("hashes a resumed upload itself, whatever the sender says", async () => {
    const data = content(4096);
    const key = sha256eKey(data);
    const wrong = content(4096, 3);
    // An interrupted upload left 1000 wrong bytes in tmp.
    const short = await store.receive(key, 0, data.length, source(wrong.subarray(0, 1000)));
    assert.deepEqual(short, { ok: false, reason: "short" });
    const r = await store.receive(
      key,
      1000,
      data.length - 1000,
      source(data.subarray(1000)),
      undefined,
      Promise.resolve(true),
    );
    assert.deepEqual(r, { ok: false, reason: "mismatch" });
    assert.equal(await store.has(key), false);
  });

  it("refuses a complete body of the wrong size for the key", async () => {
    const data = content(2048);
    const key = sha256eKey(data);
    const r = await store.receive(key, 0, 2000, source(data.subarray(0, 2000)));
    assert.deepEqual(r, { ok: false, reason: "mismatch" });
    assert.equal(await store.has(key), false);
  });

  it("refuses a resume from beyond what tmp holds", async () => {
    const data = content(1000);
    const key = sha256eKey(data);
    const r0 = await store.receive(key, 10, 990, source(data.subarray(10)));
    assert.deepEqual(r0, { ok: false, reason: "bad-offset" });
    await store.receive(key, 0, 1000, source(data.subarray(0, 100)));
    assert.equal(await store.tmpSize(key), 100);
    const r1 = await store.receive(key, 101, 899, source(data.subarray(101)));
    assert.deepEqual(r1, { ok: false, reason: "bad-offset" });
    assert.equal(await store.has(key), false);
    // The partial upload is untouched, so a correct resume still works.
    assert.equal(await store.tmpSize(key), 100);
    assert.deepEqual(await store.receive(key, 100, 900, source(data.subarray(100))), { ok: true });
  });

  it("truncates tmp when resuming from before its end", async () => {
    const data = content(8000);
    const key = sha256eKey(data);
    await store.receive(key, 0, data.length, source(data.subarray(0, 6000)));
    assert.equal(await store.tmpSize(key), 6000);
    const r = await store.receive(key, 2000, 6000, source(data.subarray(2000)));
    assert.deepEqual(r, { ok: true });
    assert.deepEqual(await readFile(store.objectFile(key)), data);
  });

  it("truncated tmp is verified from what it keeps, not what it had", async () => {
    const data = content(8000);
    const key = sha256eKey(data);
    // tmp holds 6000 bytes whose tail is garbage; resuming from 2000 must drop it.
    await mkdir(join(annex, "tmp"), { recursive: true });
    await writeFile(store.tmpFile(key), Buffer.concat([data.subarray(0, 2000), content(4000, 9)]));
    const r = await store.receive(key, 2000, 6000, source(data.subarray(2000)));
    assert.deepEqual(r, { ok: true });
    assert.deepEqual(await readFile(store.objectFile(key)), data);
  });

  const sourceEnds: [string, number, Error | undefined][] = [
    ["errors", 1500, new Error("connection reset")],
    ["is destroyed without an error", 700, undefined],
  ];
  for (const [how, sent, error] of sourceEnds) {
    it(`keeps what arrived when the source ${how}`, async () => {
      const data = content(4000);
      const { key, sender, receiving } = await uploadUnderWay(store, data, sent);
      sender.destroy(error);
      assert.deepEqual(await receiving, { ok: false, reason: "aborted" });
      assert.equal(await store.has(key), false);
      assert.deepEqual(await readFile(store.tmpFile(key)), data.subarray(0, sent));
    });
  }

  it("stops waiting for a stalled source when the signal aborts", async () => {
    const data = content(4000);
    const controller = new AbortController();
    const { key, receiving } = await uploadUnderWay(store, data, 900, controller.signal);
    controller.abort(new Error("client went away"));
    const timeout = new Promise<"hung">((r) => setTimeout(() => r("hung"), 2000).unref());
    assert.deepEqual(await Promise.race([receiving, timeout]), { ok: false, reason: "aborted" });
    assert.equal(await store.tmpSize(key), 900);
    // The store is free for the key again.
    assert.deepEqual(await store.receive(key, 900, 3100, source(data.subarray(900))), {
      ok: true,
    });
  });

  it("answers aborted at once for a signal already aborted", async () => {
    const data = content(100);
    const key = sha256eKey(data);
    const body = new PassThrough();
    const r = await store.receive(key, 0, 100, body, AbortSignal.abort());
    assert.deepEqual(r, { ok: false, reason: "aborted" });
    assert.equal(await store.has(key), false);
  });

  describe("WORM keys", () => {
    it("stores any content of the key's size, unhashed", async () => {
      const key = parseKey("WORM-s11-m1700000000--notes.txt");
      const r = await store.receive(key, 0, 11, source(Buffer.from("hello world")));
      assert.deepEqual(r, { ok: true });
      assert.equal(await readFile(store.objectFile(key), "utf8"), "hello world");
    });

    it("checks the size", async () => {
      const key = parseKey("WORM-s11-m1700000000--notes.txt");
      const r = await store.receive(key, 0, 5, source(Buffer.from("hello")));
      assert.deepEqual(r, { ok: false, reason: "mismatch" });
      assert.equal(await store.has(key), false);
    });

    it("accepts any length when the key has no size", async () => {
      const key = parseKey("WORM-m1700000000--sizeless");
      assert.deepEqual(await store.receive(key, 0, 3, source(Buffer.from("abc"))), { ok: true });
      assert.equal(await store.size(key), 3);
    });

    it("resumes", async () => {
      const key = parseKey("WORM-s11-m1700000000--resumed.txt");
      const body = Buffer.from("hello world");
      assert.deepEqual(await store.receive(key, 0, 11, source(body.subarray(0, 4))), {
        ok: false,
        reason: "short",
      });
      assert.deepEqual(await store.receive(key, 4, 7, source(body.subarray(4))), { ok: true });
      assert.deepEqual(await readFile(store.objectFile(key)), body);
    });
  });

  it("answers ok for a key already present, draining the sender", async () => {
    const data = content(500);
    const key = sha256eKey(data);
    await store.receive(key, 0, 500, source(data));
    const body = source(content(500, 3)); // even wrong bytes: nothing is written
    assert.deepEqual(await store.receive(key, 0, 500, body), { ok: true });
    assert.deepEqual(await readFile(store.objectFile(key)), data);
    assert.equal(await exists(store.tmpFile(key)), false);
  });

  describe("adoptTmp (DATA-PRESENT)", () => {
    it("moves verified content into place", async () => {
      const data = content(700);
      const key = sha256eKey(data);
      await mkdir(join(annex, "tmp"), { recursive: true });
      await writeFile(store.tmpFile(key), data);
      assert.equal(await store.adoptTmp(key), true);
      assert.deepEqual(await readFile(store.objectFile(key)), data);
      assert.equal((await stat(store.objectFile(key))).mode & 0o777, 0o444);
      assert.equal(await exists(store.tmpFile(key)), false);
      // Again: already present.
      assert.equal(await store.adoptTmp(key), true);
    });

    it("refuses and discards wrong content", async () => {
      const data = content(700);
      const key = sha256eKey(data);
      await mkdir(join(annex, "tmp"), { recursive: true });
      await writeFile(store.tmpFile(key), content(700, 5));
      assert.equal(await store.adoptTmp(key), false);
      await assertNothingKept(key);
    });

    it("refuses content of the wrong size", async () => {
      const data = content(700);
      const key = sha256eKey(data);
      await mkdir(join(annex, "tmp"), { recursive: true });
      await writeFile(store.tmpFile(key), data.subarray(0, 699));
      assert.equal(await store.adoptTmp(key), false);
      assert.equal(await store.has(key), false);
    });

    it("refuses when there is no tmp file", async () => {
      assert.equal(await store.adoptTmp(sha256eKey(content(10))), false);
    });
  });

  describe("remove", () => {
    it("deletes the object, tidies empty directories, leaves others alone", async () => {
      const a = content(300, 1);
      const b = content(300, 2);
      const ka = sha256eKey(a);
      const kb = sha256eKey(b);
      await store.receive(ka, 0, 300, source(a));
      await store.receive(kb, 0, 300, source(b));
      const objects = join(annex, "objects");
      const before = await filesUnder(objects);
      assert.equal(before.length, 2);

      assert.equal(await store.remove(ka), true);
      assert.equal(await store.has(ka), false);
      assert.equal(await exists(join(store.objectFile(ka), "..")), false);
      assert.deepEqual(await filesUnder(objects), [relative(objects, store.objectFile(kb))]);
      assert.deepEqual(await readFile(store.objectFile(kb)), b);
      // No empty directory is left behind on a's path.
      for (let d = join(store.objectFile(ka), ".."); d !== objects; d = join(d, "..")) {
        if (await exists(d)) assert.ok((await readdir(d)).length > 0, `${d} left empty`);
      }

      assert.equal(await store.remove(kb), true);
      assert.deepEqual(await readdir(objects), []);
    });

    it("keeps hash directories shared with another object", async () => {
      // Two keys in the same hash directories: same digest, different extension.
      const data = content(64);
      const k1 = sha256eKey(data, ".a");
      const k2 = sha256eKey(data, ".b");
      const lower = new ObjectStore(repositoryLayout(annex, "lower"));
      await lower.receive(k1, 0, 64, source(data));
      await lower.receive(k2, 0, 64, source(data));
      // lower layout hashes the whole key, so directories may or may not be
      // shared; whichever they are, removing one leaves the other intact.
      await lower.remove(k1);
      assert.deepEqual(await readFile(lower.objectFile(k2)), data);
      assert.equal(await lower.has(k1), false);
    });

    it("answers true for an absent key", async () => {
      assert.equal(await store.remove(sha256eKey(content(5))), true);
    });
  });

  it("serializes concurrent receives of one key; both answer ok", async () => {
    const data = content(50_000);
    const key = sha256eKey(data);
    const first = new PassThrough();
    const second = new PassThrough();
    const p1 = store.receive(key, 0, data.length, first);
    const p2 = store.receive(key, 0, data.length, second);
    // The second sender writes everything at once; if it ran now it would
    // interleave with the first in the shared tmp file.
    second.end(data);
    first.write(data.subarray(0, 20_000));
    await until("20000 bytes in the temp file", async () => (await store.tmpSize(key)) >= 20_000);
    let secondDone = false;
    void p2.then(() => {
      secondDone = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(secondDone, false, "second receive ran while the first was in progress");
    first.end(data.subarray(20_000));
    assert.deepEqual(await Promise.all([p1, p2]), [{ ok: true }, { ok: true }]);
    assert.deepEqual(await readFile(store.objectFile(key)), data);
    assert.equal(await exists(store.tmpFile(key)), false);
  });

  describe("read", () => {
    it("reads from any offset, and nothing past the end", async () => {
      const data = Buffer.from("0123456789abcdef");
      const key = sha256eKey(data);
      await store.receive(key, 0, data.length, source(data));
      for (const offset of [0, 1, 7, 15, 16, 17, 1000]) {
        const r = await store.read(key, offset);
        assert.ok(r);
        assert.equal(r.size, data.length);
        assert.equal(await text(r.stream), data.subarray(offset).toString());
      }
    });

    it("answers null for an absent key", async () => {
      assert.equal(await store.read(sha256eKey(content(3)), 0), null);
    });
  });

  it("discardTmp drops a partial upload", async () => {
    const data = content(100);
    const key = sha256eKey(data);
    await store.receive(key, 0, 100, source(data.subarray(0, 50)));
    assert.equal(await store.tmpSize(key), 50);
    await store.discardTmp(key);
    assert.equal(await exists(store.tmpFile(key)), false);
    await store.discardTmp(key); // absent: no error
  });
});
