// Over 400 lines: one conformance suite, every Peer operation's cases in one place (test code only)
/**
 * The one conformance suite every Peer must pass, written once (as tus's
 * stores.ts and hono's common.case tests are) and run by test files against
 * each implementation: the local repository, line-protocol and p2phttp
 * clients to stock git-annex and to annexgate, a proxied remote, a cluster,
 * and a bare DelegatingPeer.
 *
 * It covers the operations of the P2P protocol as the Peer interface names
 * them: store (whole, resumed after an interrupted store, already-have,
 * data-present, wrong or short data), retrieve from offsets, presence,
 * locking against removal, remove and remove-before, timestamps,
 * plus-UUIDs, and concurrent use.
 *
 * @example
 * runPeerConformance("LocalPeer", async () => {
 *   const repo = await openLocalRepository(dir);
 *   return { peer: repo.peer, cleanup: () => repo.close() };
 * });
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { type Key, parseKey } from "../keys/index.js";
import type { Peer, StoreResult } from "./peer.js";

export interface PeerUnderTest {
  readonly peer: Peer;
  /** Close the peer and remove whatever the factory made. */
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** False for peers that cannot do data-present (p2p protocol before v4). Default true. */
  readonly dataPresent?: boolean;
  /** False for peers that never lock content (a cluster). Default true. */
  readonly locking?: boolean;
  /**
   * The plus-UUIDs a store or remove reports (a cluster's nodes), in any
   * order; asked once the peer is made. Default none.
   */
  readonly plusUuids?: () => readonly string[];
  /**
   * False for peers that keep nothing of an interrupted store (an S3
   * special remote: an unfinished multipart upload is aborted), whose
   * putOffset then stays 0. Default true.
   */
  readonly resume?: boolean;
  /**
   * False for peers without timestamps (p2phttp before v3): getTimestamp
   * and remove-before must then be refused as unsupported, removing
   * nothing. Default true.
   */
  readonly timestamps?: boolean;
}

/** Random content and its SHA256E key. */
export interface Sample {
  readonly data: Buffer;
  readonly key: Key;
}

export function sample(size: number, ext = ".bin"): Sample {
  const data = randomBytes(size);
  const hex = createHash("sha256").update(data).digest("hex");
  return { data, key: parseKey(`SHA256E-s${size}--${hex}${ext}`) };
}

/** Each test's bound: a peer that hangs fails its test instead of stalling the run. */
const TEST_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with `p`'s value, or "pending" when it has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"pending">((r) => {
    timer = setTimeout(() => r("pending"), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Chunks of at most 64 KiB, so transfers take several writes. */
function chunked(data: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) parts.push(data.subarray(i, i + 65536));
  return Readable.from(parts, { objectMode: false });
}

/**
 * Sends `data`, then (after `pauseMs`, so the bytes reach the far side
 * even on a loaded machine: the 300 ms this once waited were missed) fails, as a sender does whose file becomes unreadable or whose client
 * goes away mid-upload.
 */
function failingAfter(data: Buffer, pauseMs: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(data);
        return;
      }
      setTimeout(() => this.destroy(new Error("source failed mid-stream")), pauseMs);
    },
  });
}

/** Stores all of `s`, from offset 0, in chunks of at most 64 KiB. */
export async function storeAll(peer: Peer, s: Sample): Promise<StoreResult> {
  return peer.store({ key: s.key, offset: 0, length: s.data.length, data: chunked(s.data) });
}

/** Store, or a rejection: either way what the peer says about it. */
async function storeOutcome(
  p: Promise<StoreResult>,
): Promise<"stored" | "not stored" | "rejected"> {
  try {
    return (await p).stored ? "stored" : "not stored";
  } catch {
    return "rejected";
  }
}

async function fetchAll(
  peer: Peer,
  key: Key,
  offset = 0,
): Promise<{ length: number; bytes: Buffer; valid: boolean } | null> {
  const got = await peer.retrieve(key, offset);
  if (!got) return null;
  const parts: Buffer[] = [];
  for await (const chunk of got.data as AsyncIterable<Buffer>) parts.push(chunk);
  return { length: got.length, bytes: Buffer.concat(parts), valid: await got.valid };
}

async function present(peer: Peer, key: Key): Promise<boolean> {
  return (await peer.checkPresent(key)).present;
}

/** Registers the suite under `describe(name)`; `makePeer` runs once, before the tests. */
// Over 80 lines: one suite, its cases side by side under one describe, as node:test registers them
export function runPeerConformance(
  name: string,
  makePeer: () => Promise<PeerUnderTest>,
  opts: ConformanceOptions = {},
): void {
  // Over 80 lines: the body of the suite, one check() per Peer behaviour
  describe(`Peer conformance: ${name}`, () => {
    let under: PeerUnderTest | undefined;
    const peer = (): Peer => {
      if (!under) throw new Error("peer not made");
      return under.peer;
    };
    /** One case of the suite, bounded in time. */
    const check = (what: string, body: () => Promise<void>) =>
      it(what, { timeout: TEST_TIMEOUT_MS }, body);
    /** A fresh sample of `size` bytes, stored whole. */
    const stored = async (size: number): Promise<Sample> => {
      const s = sample(size);
      assert.equal((await storeAll(peer(), s)).stored, true);
      return s;
    };
    const assertPlus = (actual: readonly string[]) =>
      assert.deepEqual([...actual].sort(), [...(opts.plusUuids?.() ?? [])].sort(), "plus-UUIDs");

    before(async () => {
      under = await makePeer();
    });
    after(async () => {
      await under?.cleanup();
    });

    check("stores content whole, then reports it present and retrieves it", async () => {
      const s = sample(200_000);
      assert.equal(await present(peer(), s.key), false);
      assert.deepEqual(await peer().putOffset(s.key), { alreadyHave: false, offset: 0 });
      const r = await storeAll(peer(), s);
      assert.equal(r.stored, true);
      assertPlus(r.plusUuids);
      assert.equal(await present(peer(), s.key), true);
      const got = await fetchAll(peer(), s.key);
      assert.ok(got);
      assert.equal(got.length, s.data.length);
      assert.equal(got.valid, true);
      assert.ok(got.bytes.equals(s.data), "retrieved bytes differ from stored ones");
    });

    check("retrieves from offsets: first byte, middle, last byte, and the end", async () => {
      const s = await stored(100_003);
      for (const offset of [0, 1, 50_000, s.data.length - 1, s.data.length]) {
        const got = await fetchAll(peer(), s.key, offset);
        assert.ok(got, `offset ${offset}`);
        assert.equal(got.length, s.data.length - offset, `length at offset ${offset}`);
        assert.equal(got.valid, true, `valid at offset ${offset}`);
        assert.ok(got.bytes.equals(s.data.subarray(offset)), `bytes at offset ${offset}`);
      }
    });

    check("stores and retrieves empty content", async () => {
      const s = await stored(0);
      assert.equal(await present(peer(), s.key), true);
      const got = await fetchAll(peer(), s.key);
      assert.ok(got, "empty content is content, not absence");
      assert.equal(got.length, 0);
      assert.equal(got.bytes.length, 0);
      assert.equal(got.valid, true);
    });

    check(
      "answers absent for content it does not have: checkPresent, retrieve, lockContent",
      async () => {
        const s = sample(1000);
        assert.equal(await present(peer(), s.key), false);
        assert.equal(await peer().retrieve(s.key, 0), null);
        const lock = await peer().lockContent(s.key);
        assert.equal(lock.kind, opts.locking === false ? "unsupported" : "absent");
      },
    );

    check("resumes a store from the offset an interrupted store reached", async () => {
      const s = sample(1_048_576 + 4321);
      const first = 400_000;
      const interrupted = await storeOutcome(
        peer().store({
          key: s.key,
          offset: 0,
          length: s.data.length,
          data: failingAfter(s.data.subarray(0, first), 2_000),
        }),
      );
      assert.notEqual(interrupted, "stored");
      assert.equal(await present(peer(), s.key), false);
      if (opts.resume === false) {
        assert.deepEqual(await peer().putOffset(s.key), { alreadyHave: false, offset: 0 });
        assert.equal((await storeAll(peer(), s)).stored, true);
        assert.ok((await fetchAll(peer(), s.key))?.bytes.equals(s.data), "stored content differs");
        return;
      }
      // The far side may still be writing what arrived: wait for it (bounded).
      let offset = 0;
      const deadline = Date.now() + 30_000;
      for (;;) {
        const po = await peer().putOffset(s.key);
        assert.equal(po.alreadyHave, false);
        if (!po.alreadyHave) offset = po.offset;
        if (offset > 0 || Date.now() > deadline) break;
        await sleep(100);
      }
      assert.ok(offset > 0, "putOffset after an interrupted store is 0");
      assert.ok(offset <= first, `putOffset ${offset} beyond the ${first} bytes sent`);
      const r = await peer().store({
        key: s.key,
        offset,
        length: s.data.length - offset,
        data: chunked(s.data.subarray(offset)),
      });
      assert.equal(r.stored, true);
      const got = await fetchAll(peer(), s.key);
      assert.ok(got?.bytes.equals(s.data), "resumed content differs");
      assert.equal(got?.valid, true);
    });

    check("stores nothing when the data is not the key's content", async () => {
      const s = sample(50_000);
      const wrong = randomBytes(s.data.length);
      const r = await storeOutcome(
        peer().store({ key: s.key, offset: 0, length: wrong.length, data: chunked(wrong) }),
      );
      assert.notEqual(r, "stored");
      assert.equal(await present(peer(), s.key), false);
      assert.equal(await peer().retrieve(s.key, 0), null);
      // The right content still goes in afterwards.
      assert.equal((await storeAll(peer(), s)).stored, true);
    });

    check("stores nothing when the data ends short of its promised length", async () => {
      const s = sample(50_000);
      const r = await storeOutcome(
        peer().store({
          key: s.key,
          offset: 0,
          length: s.data.length,
          data: chunked(s.data.subarray(0, 30_000)),
        }),
      );
      assert.notEqual(r, "stored");
      assert.equal(await present(peer(), s.key), false);
    });

    check("says already-have for content it has, and a store of it succeeds", async () => {
      const s = await stored(20_000);
      const po = await peer().putOffset(s.key);
      assert.ok(po.alreadyHave);
      assertPlus(po.plusUuids);
      const again = await storeAll(peer(), s);
      assert.equal(again.stored, true);
      assertPlus(again.plusUuids);
      assert.equal(await present(peer(), s.key), true);
    });

    if (opts.dataPresent !== false) {
      check("data-present: stored only when the content is there", async () => {
        const s = sample(10_000);
        assert.equal((await peer().storePresent(s.key)).stored, false);
        assert.equal(await present(peer(), s.key), false);
        assert.equal((await storeAll(peer(), s)).stored, true);
        const r = await peer().storePresent(s.key);
        assert.equal(r.stored, true);
        assertPlus(r.plusUuids);
      });
    }

    check("removes content (and removing absent content succeeds)", async () => {
      const s = await stored(10_000);
      const removed = await peer().remove(s.key);
      assert.equal(removed.removed, true);
      assertPlus(removed.plusUuids);
      assert.equal(await present(peer(), s.key), false);
      assert.equal(await peer().retrieve(s.key, 0), null);
      assert.equal((await peer().remove(s.key)).removed, true);
    });

    if (opts.locking === false) {
      check("does not lock content, even content it has", async () => {
        const s = await stored(10_000);
        assert.equal((await peer().lockContent(s.key)).kind, "unsupported");
        assert.equal((await peer().remove(s.key)).removed, true);
      });
    } else
      check("a locked key is not removed; after release it can be", async () => {
        const s = await stored(10_000);
        const r = await peer().lockContent(s.key);
        assert.equal(r.kind, "locked", "lockContent of present content");
        const lock = r.lock;
        lock.keep();
        // Some servers refuse at once, stock git-annex p2phttp waits for the
        // lock: either is right, as long as the content stays.
        const aborter = new AbortController();
        const removing = peer()
          .remove(s.key, {}, { signal: aborter.signal })
          .then(
            (r) => r.removed,
            () => false,
          );
        const early = await within(removing, 1500);
        assert.notEqual(early, true, "removed while locked");
        assert.equal(await present(peer(), s.key), true);
        const got = await fetchAll(peer(), s.key);
        assert.ok(got?.bytes.equals(s.data), "locked content readable");
        await lock.release();
        await lock.release(); // twice is harmless
        // A remove that waited may now go ahead, or stay stuck (stock
        // p2phttp's does): it gets a moment, then is given up.
        await within(removing, 2000);
        aborter.abort();
        assert.equal((await peer().remove(s.key)).removed, true);
        assert.equal(await present(peer(), s.key), false);
      });

    check("remove-before: a past timestamp removes nothing, a future one removes", async () => {
      const s = await stored(10_000);
      if (opts.timestamps === false) {
        const unsupported = (e: unknown) =>
          (e as { data?: { unsupported?: unknown } }).data?.unsupported === true;
        await assert.rejects(peer().getTimestamp(), unsupported);
        await assert.rejects(peer().remove(s.key, { before: 2 ** 40 }), unsupported);
        assert.equal(await present(peer(), s.key), true);
        return;
      }
      const now = await peer().getTimestamp();
      const past = await peer().remove(s.key, { before: now - 10 });
      assert.equal(past.removed, false);
      assert.equal(await present(peer(), s.key), true);
      const future = await peer().remove(s.key, { before: now + 600 });
      assert.equal(future.removed, true);
      assertPlus(future.plusUuids);
      assert.equal(await present(peer(), s.key), false);
    });

    check("getTimestamp is whole seconds, monotonic, non-decreasing", async () => {
      if (opts.timestamps === false) return; // refused, as the case above shows
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        seen.push(await peer().getTimestamp());
        await sleep(150);
      }
      for (const t of seen) assert.ok(Number.isInteger(t), `timestamp ${t}`);
      for (let i = 1; i < seen.length; i++) {
        assert.ok((seen[i] as number) >= (seen[i - 1] as number), `went back: ${seen.join(",")}`);
      }
      assert.ok((seen[seen.length - 1] as number) - (seen[0] as number) <= 5, "clock ran fast");
    });

    check("reports its plus-UUIDs (none for a plain repository)", async () => {
      const s = sample(3000);
      const stored = await storeAll(peer(), s);
      assertPlus(stored.plusUuids);
      const po = await peer().putOffset(s.key);
      assert.ok(po.alreadyHave);
      assertPlus(po.plusUuids);
      assertPlus((await peer().remove(s.key)).plusUuids);
    });

    check("keeps working after a retrieve whose reader gave up early", async () => {
      const s = await stored(600_000);
      const got = await peer().retrieve(s.key, 0);
      assert.ok(got);
      const valid = got.valid;
      await new Promise<void>((resolve) => {
        got.data.once("data", () => {
          got.data.destroy();
          resolve();
        });
      });
      // Whatever it says, it must say it (not hang).
      assert.equal(typeof (await within(valid, 5000)), "boolean", "valid did not settle");
      const again = await fetchAll(peer(), s.key, 100);
      assert.ok(again?.bytes.equals(s.data.subarray(100)));
      assert.equal(await present(peer(), s.key), true);
    });

    check("serves concurrent use: 8 stores and 8 retrieves at once", async () => {
      const old = Array.from({ length: 8 }, (_, i) => sample(30_000 + i * 1000));
      for (const s of old) assert.equal((await storeAll(peer(), s)).stored, true);
      const fresh = Array.from({ length: 8 }, (_, i) => sample(40_000 + i * 777));
      const [stores, reads] = await Promise.all([
        Promise.all(fresh.map((s) => storeAll(peer(), s))),
        Promise.all(old.map((s) => fetchAll(peer(), s.key))),
      ]);
      for (const r of stores) assert.equal(r.stored, true);
      reads.forEach((got, i) => {
        assert.ok(got?.bytes.equals((old[i] as Sample).data), `retrieve ${i}`);
        assert.equal(got?.valid, true);
      });
      const presence = await Promise.all(fresh.map((s) => present(peer(), s.key)));
      assert.deepEqual(
        presence,
        fresh.map(() => true),
      );
    });
  });
}
