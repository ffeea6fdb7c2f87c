/**
 * HttpPeer beyond the conformance suite: URLs, version fallback as
 * git-annex's client falls back (and remembering the version that works),
 * basic auth against stock git annex p2phttp, the bounded keep-alive pool,
 * the keeplocked long poll on connections of its own, how put bodies say
 * "invalid" (one byte short), GET validity, and GET bodies continued after
 * a break-off. Small scripted servers where the test must see the requests.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { genUuid } from "../../src/keys/index.js";
import { sample } from "../../src/peers/conformance.js";
import { DEFAULT_CONTINUATIONS } from "../../src/peers/http/download-body.js";
import { HttpPeer, PeerError, parseP2pHttpUrl } from "../../src/peers/index.js";
import {
  type DownloadScript,
  FakeP2pHttp as FakeServer,
  json,
  route,
  scriptedDownloads,
} from "../helpers/fake-p2phttp.js";
import { gitAnnexRepo, makeTempDir, removeDir, run, waitFor } from "../helpers/index.js";
import { type RunningP2pHttp, startStockP2pHttp } from "../helpers/servers.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("parseP2pHttpUrl", () => {
  it("reads annex+http(s) URLs as git-annex does", () => {
    assert.deepEqual(parseP2pHttpUrl("annex+http://example.com/git-annex/"), {
      secure: false,
      hostname: "example.com",
      port: 9417,
      prefix: "/git-annex/",
    });
    assert.deepEqual(parseP2pHttpUrl("annex+https://h:1234/sub/dir/git-annex"), {
      secure: true,
      hostname: "h",
      port: 1234,
      prefix: "/sub/dir/git-annex/",
    });
    assert.equal(parseP2pHttpUrl("http://[::1]:80/").hostname, "::1");
    assert.equal(parseP2pHttpUrl("annex+http://h/").prefix, "/git-annex/");
    assert.throws(() => parseP2pHttpUrl("annex+ftp://h/"), PeerError);
    assert.throws(() => parseP2pHttpUrl("not a url"), PeerError);
  });
});

describe("HttpPeer version fallback", () => {
  const uuid = genUuid();
  const plus = genUuid();
  let fake: FakeServer;
  let peer: HttpPeer;

  before(async () => {
    // An older server: v0..v2 only. v4 is unknown (404), v3 a "bad version" 400.
    fake = await new FakeServer((req, _body, res) => {
      const { op, v } = route(req.url ?? "");
      if (v === 4) return json(res, {}, 404);
      if (v === 3) {
        res.writeHead(400);
        res.end("bad version");
        return;
      }
      if (op === "checkpresent") return json(res, { present: true });
      if (op === "remove") {
        const b64 = Buffer.from(plus).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
        return json(res, { removed: true, plusuuids: [`[${b64}]`] });
      }
      if (op === "putoffset") return json(res, { offset: 7 });
      json(res, {}, 404);
    }).start();
    peer = new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid() });
  });
  after(async () => {
    await peer.close();
    await fake.stop();
  });

  it("falls back from v4 on 404 and 400 bad version, and remembers the version that works", async () => {
    const key = sample(10).key;
    assert.deepEqual(await peer.checkPresent(key), { present: true });
    assert.deepEqual(
      fake.seen.map((s) => route(s.url).v),
      [4, 3, 2],
    );
    assert.equal(peer.apiVersion, 2);
    fake.seen.length = 0;
    assert.deepEqual(await peer.putOffset(key), { alreadyHave: false, offset: 7 });
    assert.deepEqual(
      fake.seen.map((s) => route(s.url)),
      [{ op: "putoffset", v: 2 }],
    );
  });

  it("decodes [base64url] plus-UUIDs", async () => {
    assert.deepEqual(await peer.remove(sample(10).key), { removed: true, plusUuids: [plus] });
  });

  it("refuses what the server's version lacks, without asking (gettimestamp is v3+)", async () => {
    fake.seen.length = 0;
    await assert.rejects(peer.getTimestamp(), PeerError);
    await assert.rejects(peer.storePresent(sample(10).key), PeerError);
    assert.deepEqual(fake.seen, []);
  });

  it("sends clientuuid and bypass (v2+) as [base64url] when they need it", async () => {
    fake.seen.length = 0;
    await peer.checkPresent(sample(10).key, { clientUuid: "[odd]", bypass: ["g1", "g2"] });
    const q = new URL(fake.seen[0]?.url ?? "", "http://x").searchParams;
    assert.equal(q.get("clientuuid"), `[${Buffer.from("[odd]").toString("base64")}]`);
    assert.deepEqual(q.getAll("bypass"), ["g1", "g2"]);
  });
});

describe("HttpPeer connections", () => {
  const uuid = genUuid();
  let fake: FakeServer;
  let lockLines: string[] = [];

  before(async () => {
    fake = await new FakeServer(async (req, body, res) => {
      const { op } = route(req.url ?? "");
      if (op === "checkpresent") {
        await sleep(30);
        return json(res, { present: true });
      }
      if (op === "lockcontent") return json(res, { locked: true, lockid: "L1" });
      if (op === "keeplocked") {
        lockLines = body
          .toString()
          .split("\n")
          .filter((l) => l !== "");
        return json(res, { locked: false });
      }
      if (op === "put") {
        return json(res, { stored: false, plusuuids: [] });
      }
      if (op === "gettimestamp") return; // a server that hangs
      json(res, {}, 404);
    }).start();
    // keeplocked is answered only at the end of its body (see above: the
    // fake reads the whole body first), as git-annex's server answers.
  });
  after(async () => {
    await fake.stop();
  });

  it("reuses kept-alive connections and never opens more than maxSockets", async () => {
    const peer = new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid(), maxSockets: 2 });
    const before = fake.sockets;
    const key = sample(10).key;
    await Promise.all(Array.from({ length: 12 }, () => peer.checkPresent(key)));
    for (let i = 0; i < 5; i++) await peer.checkPresent(key);
    assert.ok(fake.sockets - before <= 2, `${fake.sockets - before} connections opened`);
    assert.ok(fake.mostOpen <= 2, `${fake.mostOpen} open at once`);
    await peer.close();
  });

  it("gives up on a request the server never answers, after requestTimeoutMs", async () => {
    const peer = new HttpPeer({
      url: fake.url(),
      uuid,
      clientUuid: genUuid(),
      requestTimeoutMs: 300,
    });
    await peer.checkPresent(sample(1).key); // settle the version first
    const started = Date.now();
    await assert.rejects(peer.getTimestamp(), PeerError);
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 5000, `${took} ms`);
    assert.deepEqual(await peer.checkPresent(sample(1).key), { present: true });
    await peer.close();
  });

  it("holds a lock with a keeplocked long poll on a connection apart", async () => {
    const peer = new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid(), maxSockets: 1 });
    const key = sample(10).key;
    const locked = await peer.lockContent(key);
    assert.equal(locked.kind, "locked");
    const lock = locked.lock;
    // The one request connection is still free while the lock is held.
    assert.deepEqual(await peer.checkPresent(key), { present: true });
    const kl = fake.seen.find((s) => route(s.url).op === "keeplocked");
    assert.equal(kl, undefined, "keeplocked answered before the lock was released");
    await lock.release();
    assert.deepEqual(lockLines, ['{"unlock":false}', '{"unlock":true}']);
    const req = fake.seen.find((s) => route(s.url).op === "keeplocked");
    assert.ok(req);
    assert.equal(new URL(req.url, "http://x").searchParams.get("lockid"), "L1");
    assert.equal(req.headers["keep-alive"], "timeout=1200");
    await peer.close();
  });

  it("ends a put body one byte short when the data runs long (git-annex's invalid mark)", async () => {
    const peer = new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid() });
    await peer.checkPresent(sample(1).key); // settle the version first
    fake.seen.length = 0;
    const s = sample(100);
    const r = await peer.store({
      key: s.key,
      offset: 0,
      length: 60,
      data: Readable.from([s.data.subarray(0, 50), s.data.subarray(50)]),
    });
    assert.equal(r.stored, false);
    const put = fake.seen.find((x) => route(x.url).op === "put");
    assert.equal(put?.headers["x-git-annex-data-length"], "60");
    assert.ok(put?.body.equals(s.data.subarray(0, 59)));
    await peer.close();
  });

  it("ends a put body short (not broken off) when the data fails, then rejects", async () => {
    const peer = new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid() });
    await peer.checkPresent(sample(1).key);
    fake.seen.length = 0;
    const s = sample(1000);
    let pushed = false;
    const failing = new Readable({
      read() {
        if (!pushed) {
          pushed = true;
          this.push(s.data.subarray(0, 400));
        } else this.destroy(new Error("disk on fire"));
      },
    });
    await assert.rejects(
      peer.store({ key: s.key, offset: 0, length: 1000, data: failing }),
      (e: unknown) =>
        e instanceof PeerError && /disk on fire/.test(String((e.cause as Error)?.message)),
    );
    const put = fake.seen.find((x) => route(x.url).op === "put");
    assert.ok(put, "the server got a whole (short) request");
    assert.ok(put.body.equals(s.data.subarray(0, 399)));
    await peer.close();
  });
});

describe("HttpPeer GET validity", () => {
  const uuid = genUuid();
  let fake: FakeServer;
  let body: Buffer = Buffer.alloc(0);
  let promised = 0;
  before(async () => {
    fake = await new FakeServer((req, _b, res) => {
      const { op } = route(req.url ?? "");
      if (op === "checkpresent") return json(res, { present: true });
      res.writeHead(200, { "x-git-annex-data-length": String(promised) });
      res.end(body);
    }).start();
  });
  after(async () => {
    await fake.stop();
  });

  it("is valid only when exactly the promised bytes arrive", async () => {
    const peer = new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid() });
    const s = sample(10);
    for (const [sent, expect] of [
      [10, true],
      [9, false],
    ] as const) {
      body = s.data.subarray(0, sent);
      promised = 10;
      const got = await peer.retrieve(s.key, 0);
      assert.ok(got);
      assert.equal(got.length, 10);
      const parts: Buffer[] = [];
      for await (const c of got.data) parts.push(c as Buffer);
      assert.equal(Buffer.concat(parts).length, sent);
      assert.equal(await got.valid, expect);
    }
    // Nothing promised for a key that has bytes: git-annex's way of saying "absent".
    body = Buffer.alloc(0);
    promised = 0;
    assert.equal(await peer.retrieve(s.key, 0), null);
    await peer.close();
  });
});

describe("HttpPeer basic auth (stock git annex p2phttp --authenv-http)", () => {
  let dir = "";
  let uuid = "";
  let server: RunningP2pHttp;
  before(async () => {
    dir = await makeTempDir("annexgate-httppeer-auth-");
    await gitAnnexRepo(dir, "auth");
    uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    server = await startStockP2pHttp(dir, ["--authenv-http"], {
      GIT_ANNEX_P2PHTTP_PASSWORD_alice: "s3cret",
      GIT_ANNEX_P2PHTTP_PASSWORD_u: "a>?>",
    });
  });
  after(async () => {
    await server.stop();
    await removeDir(dir);
  });

  const url = () => `annex+http://127.0.0.1:${server.port}/git-annex/`;

  it("is refused with 401 without credentials or with wrong ones", async () => {
    for (const auth of [undefined, { user: "alice", password: "wrong" }]) {
      const peer = new HttpPeer({
        url: url(),
        uuid,
        clientUuid: genUuid(),
        ...(auth ? { auth } : {}),
      });
      await assert.rejects(
        peer.checkPresent(sample(10).key),
        (e: unknown) => e instanceof PeerError && e.data.status === 401,
      );
      await peer.close();
    }
  });

  it("writes credentials in base64url, as stock reads them", async () => {
    // "u:a>?>" is dTphPj8+ in standard base64, which stock refuses.
    const peer = new HttpPeer({
      url: url(),
      uuid,
      clientUuid: genUuid(),
      auth: { user: "u", password: "a>?>" },
    });
    assert.deepEqual(await peer.checkPresent(sample(10).key), { present: false });
    await peer.close();
  });

  it("stores and retrieves with the right credentials", async () => {
    const peer = new HttpPeer({
      url: url(),
      uuid,
      clientUuid: genUuid(),
      auth: { user: "alice", password: "s3cret" },
    });
    const s = sample(5000);
    const r = await peer.store({
      key: s.key,
      offset: 0,
      length: 5000,
      data: Readable.from([s.data]),
    });
    assert.equal(r.stored, true);
    const got = await peer.retrieve(s.key, 0);
    const parts: Buffer[] = [];
    for await (const c of got?.data ?? []) parts.push(c as Buffer);
    assert.ok(Buffer.concat(parts).equals(s.data));
    await peer.close();
  });
});

/**
 * Where stock git annex p2phttp leaves a request's thread waiting (a
 * worker per lockcontent of absent content; a connection broken mid-put),
 * its later requests hang: HttpPeer never does those.
 */
describe("HttpPeer and stock git annex p2phttp's leaks", () => {
  let dir = "";
  let server: RunningP2pHttp;
  let peer: HttpPeer;
  before(async () => {
    dir = await makeTempDir("annexgate-httppeer-leak-");
    await gitAnnexRepo(dir, "leak");
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    server = await startStockP2pHttp(dir, ["--wideopen", "--jobs", "2"]);
    peer = new HttpPeer({
      url: `annex+http://127.0.0.1:${server.port}/git-annex/`,
      uuid,
      clientUuid: genUuid(),
    });
  });
  after(async () => {
    await peer.close();
    await server.stop();
    await removeDir(dir);
  });

  it("does not lockcontent absent content (stock would keep a worker for each, then hang)", async () => {
    for (let i = 0; i < 5; i++)
      assert.equal((await peer.lockContent(sample(10).key)).kind, "absent");
    const s = sample(100);
    const stored = await peer.store({
      key: s.key,
      offset: 0,
      length: 100,
      data: Readable.from([s.data]),
    });
    assert.equal(stored.stored, true);
    const locked = await peer.lockContent(s.key);
    assert.equal(locked.kind, "locked");
    const lock = locked.lock;
    await lock.release();
    assert.deepEqual(await peer.checkPresent(s.key), { present: true });
  });

  /** Resolves with the value, or rejects when it takes longer than `ms` (a hung server). */
  const answered = <T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms).unref(),
      ),
    ]);

  it("mid-body: the body ends short, stock keeps what came, and its next requests answer", async () => {
    // Each round would leave stock's request thread waiting for ever if the
    // put were broken off (a connection reset mid-body) instead.
    for (let round = 0; round < 3; round++) {
      const s = sample(256 * 1024);
      const aborter = new AbortController();
      const half = s.data.subarray(0, s.data.length / 2);
      // Half the data, then a source that says nothing more: only the
      // client's signal ends this store.
      let asked = 0;
      let wantsMore = () => {};
      const tookHalf = new Promise<void>((resolve) => {
        wantsMore = resolve;
      });
      const data = new Readable({
        read() {
          if (++asked === 1) this.push(half);
          else wantsMore();
        },
      });
      const storing = peer.store(
        { key: s.key, offset: 0, length: s.data.length, data },
        { signal: aborter.signal },
      );
      await tookHalf;
      aborter.abort();
      await assert.rejects(answered(storing, "the given-up store"));
      const po = await answered(peer.putOffset(s.key), "putoffset after the given-up store");
      assert.equal(po.alreadyHave, false);
      assert.ok(!po.alreadyHave && po.offset > 0 && po.offset < half.length, JSON.stringify(po));
      assert.deepEqual(await answered(peer.checkPresent(s.key), "checkpresent"), {
        present: false,
      });
    }
  });

  it("a bodiless request given up is still answered, and stock's next requests are", async () => {
    // Breaking such a request off while stock's worker runs it would leave
    // stock's request thread waiting, and every later request hanging.
    const s = sample(1000);
    await peer.store({ key: s.key, offset: 0, length: 1000, data: Readable.from([s.data]) });
    for (let round = 0; round < 3; round++) {
      const calls: ((signal: AbortSignal) => Promise<unknown>)[] = [
        (signal: AbortSignal) => peer.checkPresent(s.key, { signal }),
        (signal: AbortSignal) => peer.putOffset(sample(10).key, { signal }),
        (signal: AbortSignal) => peer.getTimestamp({ signal }),
        (signal: AbortSignal) => peer.remove(sample(10).key, {}, { signal }),
      ];
      const answers = await Promise.all(
        calls.map((call, i) => {
          const aborter = new AbortController();
          const asked = call(aborter.signal);
          // Given up once the request is on its way.
          setImmediate(() => aborter.abort());
          return answered(asked, `given-up call ${i}`);
        }),
      );
      assert.deepEqual(answers[0], { present: true });
      assert.deepEqual(answers[1], { alreadyHave: false, offset: 0 });
      assert.equal(typeof answers[2], "number");
      assert.equal((answers[3] as { removed?: unknown }).removed, true);
    }
    assert.deepEqual(await answered(peer.checkPresent(s.key), "checkpresent after"), {
      present: true,
    });
  });

  it("after the body: the answer is still awaited, and the key is stored", async () => {
    const s = sample(256 * 1024);
    const aborter = new AbortController();
    const data = Readable.from([s.data]);
    // The source has given everything: the client leaves now.
    data.once("end", () => aborter.abort());
    const r = await answered(
      peer.store(
        { key: s.key, offset: 0, length: s.data.length, data },
        { signal: aborter.signal },
      ),
      "the store",
    );
    assert.equal(r.stored, true);
    assert.deepEqual(await answered(peer.checkPresent(s.key), "checkpresent"), { present: true });
  });
});

/**
 * A GET body that breaks off is continued from the first byte the reader
 * lacks, even one that sent nothing before it stalled (stock p2phttp's race
 * can leave a small object's whole body unsent); one that ends cleanly
 * short is not.
 */
describe("HttpPeer continues a download that broke off", () => {
  const uuid = genUuid();
  const s = sample(300_000);
  /** How the server answers the GET starting at `offset`. */
  let mode: (offset: number) => DownloadScript = () => "whole";
  let fake: FakeServer;
  let gets: () => number[];
  before(async () => {
    ({ fake, gets } = await scriptedDownloads(s.data, (offset) => mode(offset)));
  });
  beforeEach(() => {
    fake.seen.length = 0;
  });
  after(async () => {
    await fake.stop();
  });

  const peerWith = (stallTimeoutMs = 60_000) =>
    new HttpPeer({ url: fake.url(), uuid, clientUuid: genUuid(), stallTimeoutMs });
  const readAll = async (data: Readable): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of data) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };

  it("after a connection ended mid-body: the rest is asked for, and the bytes are whole", async () => {
    const peer = peerWith();
    mode = (offset) => (offset === 0 ? "reset" : "whole");
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    assert.ok((await readAll(got.data)).equals(s.data));
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [0, 100_000]);
    await peer.close();
  });

  it("after a server that stopped sending (the stall timeout): the same, from an offset", async () => {
    // The stall timeout is what a stalled server costs; short here.
    const peer = peerWith(1_000);
    mode = (offset) => (offset === 1000 ? "stall" : "whole");
    const got = await peer.retrieve(s.key, 1000);
    assert.ok(got);
    assert.ok((await readAll(got.data)).equals(s.data.subarray(1000)));
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [1000, 1000 + 99_667]);
    await peer.close();
  });

  it("after a server that sent no byte of the body: asked again from the same offset", async () => {
    const peer = peerWith(2_000);
    let silent = 1;
    mode = () => (silent-- > 0 ? "silent" : "whole");
    const got = await peer.retrieve(s.key, 500);
    assert.ok(got);
    assert.ok((await readAll(got.data)).equals(s.data.subarray(500)));
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [500, 500]);
    await peer.close();
  });

  it("a bounded number of times: a server that breaks off every time fails the download", async () => {
    const peer = peerWith();
    mode = () => "reset";
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    await assert.rejects(readAll(got.data));
    assert.equal(await got.valid, false);
    assert.equal(gets().length, 1 + DEFAULT_CONTINUATIONS);
    await peer.close();
  });

  it("a GET left unanswered (not even headers) is asked again", async () => {
    const peer = peerWith(2_000);
    let unanswered = 1;
    mode = () => (unanswered-- > 0 ? "unanswered" : "whole");
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    assert.ok((await readAll(got.data)).equals(s.data));
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [0, 0]);
    await peer.close();
  });

  it("once: a server that never answers fails the download after two GETs", async () => {
    const peer = peerWith(1_000);
    mode = () => "unanswered";
    await assert.rejects(peer.retrieve(s.key, 0), /no answer within/);
    assert.deepEqual(gets(), [0, 0]);
    await peer.close();
  });

  it("no more once the reader gave up, even while a continuation waits for its answer", async () => {
    const peer = peerWith(60_000);
    mode = (offset) => (offset === 0 ? "reset" : "unanswered");
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    got.data.resume();
    await waitFor("the continuation to reach the server", async () => gets().length === 2);
    got.data.destroy();
    await waitFor("the continuation to be ended", async () => fake.closedEarly >= 1);
    assert.equal(await got.valid, false);
    assert.deepEqual(gets(), [0, 100_000]);
    await peer.close();
  });

  it("a bounded number of times: a server that never sends fails the download", async () => {
    const peer = peerWith(1_000);
    mode = () => "silent";
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    await assert.rejects(readAll(got.data), /no progress/);
    assert.equal(await got.valid, false);
    assert.deepEqual(gets(), [0, 0, 0, 0].slice(0, 1 + DEFAULT_CONTINUATIONS));
    await peer.close();
  });

  it("not when the continuation promises other bytes than the rest", async () => {
    const peer = peerWith();
    mode = (offset) => (offset === 0 ? "reset" : "wrong length");
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    await assert.rejects(readAll(got.data), /continued with a different length/);
    assert.equal(await got.valid, false);
    assert.deepEqual(gets(), [0, 100_000]);
    await peer.close();
  });

  it("not when the reader gave up: the response is ended, nothing more is asked", async () => {
    const peer = peerWith();
    mode = () => "stall";
    const got = await peer.retrieve(s.key, 0);
    assert.ok(got);
    await new Promise<void>((resolve) => got.data.once("data", () => resolve()));
    got.data.destroy();
    assert.equal(await got.valid, false);
    await waitFor("the server to see the connection closed", async () => fake.openNow === 0);
    assert.deepEqual(gets(), [0]);
    await peer.close();
  });
});
