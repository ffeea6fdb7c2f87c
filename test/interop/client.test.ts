/**
 * What the client library adds over the conformance suite: its typed
 * errors (a bad URL, no server, an unknown UUID, a refused password), basic
 * auth, progress from every kind of source, abort and resume, content
 * verification, held locks, and the API version it settles on; against
 * annexgate's p2phttp server with --authenv-http. And how it continues a
 * download that broke off, against a scripted server that breaks it.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  AbortedError,
  type AnnexClient,
  ClientError,
  connect,
  type Key,
  RefusedError,
  UnreachableError,
} from "../../src/client/index.js";
import {
  type DownloadScript,
  type FakeP2pHttp,
  scriptedDownloads,
} from "../helpers/fake-p2phttp.js";
import { gitAnnexRepo, makeTempDir, removeDir, run, waitFor } from "../helpers/index.js";
import { freePort, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const AUTH = { user: "alice", password: "s3cret" };

function sample(size: number): { data: Uint8Array; key: Key } {
  const data = new Uint8Array(randomBytes(size));
  const name = `${createHash("sha256").update(data).digest("hex")}.bin`;
  return { data, key: { backend: "SHA256E", size, name } };
}

describe("annexgate/client against annexgate p2phttp (basic auth)", () => {
  let dir = "";
  let uuid = "";
  let server: RunningP2pHttp;
  let client: AnnexClient;
  const url = () => `annex+http://127.0.0.1:${server.port}/git-annex/`;

  before(async () => {
    dir = await makeTempDir("annexgate-client-");
    await gitAnnexRepo(dir, "client");
    uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    server = await startAnnexgate(dir, ["--authenv-http"], {
      GIT_ANNEX_P2PHTTP_PASSWORD_alice: AUTH.password,
      GIT_ANNEX_P2PHTTP_PASSWORD_u: "a>?>",
    });
    client = await connect({ url: url(), uuid, auth: AUTH });
  });
  after(async () => {
    await client.close();
    await server.stop();
    await removeDir(dir);
  });

  it("fails with typed errors: bad URL, no server, unknown UUID, no or wrong password", async () => {
    await assert.rejects(connect({ url: "ftp://x/", uuid }), ClientError);
    const closed = await freePort();
    await assert.rejects(
      connect({ url: `annex+http://127.0.0.1:${closed}/git-annex/`, uuid }),
      UnreachableError,
    );
    const other = "00000000-1111-2222-3333-444444444444";
    await assert.rejects(
      connect({ url: url(), uuid: other, auth: AUTH }),
      (e: unknown) => e instanceof RefusedError && e.status === 404,
    );
    for (const auth of [undefined, { user: "alice", password: "wrong" }]) {
      await assert.rejects(
        connect({ url: url(), uuid, ...(auth ? { auth } : {}) }),
        (e: unknown) => e instanceof RefusedError && e.status === 401,
      );
    }
    assert.equal(client.version, 4);
    // "u:a>?>" is dTphPj8+ in standard base64, which git-annex's servers
    // refuse: the client writes base64url, as git-annex does.
    const u = await connect({ url: url(), uuid, auth: { user: "u", password: "a>?>" } });
    assert.equal(await u.checkPresent(sample(1).key), false);
    await u.close();
  });

  it("puts from bytes, a Blob, a web stream and an async iterable, with progress to the end", async () => {
    const sources = [
      (d: Uint8Array) => d,
      (d: Uint8Array) => new Blob([d]),
      (d: Uint8Array) => new Blob([d]).stream(),
      (d: Uint8Array) =>
        (async function* () {
          for (let at = 0; at < d.length; at += 100_000) yield d.subarray(at, at + 100_000);
        })(),
    ];
    for (const [i, source] of sources.entries()) {
      const s = sample(1_000_000 + i);
      const seen: number[] = [];
      const r = await client.put(s.key, source(s.data), {
        onProgress: (sent, total) => {
          assert.equal(total, s.data.length);
          seen.push(sent);
        },
      });
      assert.equal(r.stored, true, `source ${i}`);
      assert.ok(seen.length > 1, `source ${i}: progress more than once`);
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        "progress only grows",
      );
      assert.equal(seen.at(-1), s.data.length, "progress reaches the end");
      assert.deepEqual(await client.getBytes(s.key), s.data);
    }
  });

  it("an aborted put is AbortedError; the next put resumes where it stopped", async () => {
    const s = sample(2_000_000);
    const aborter = new AbortController();
    // A source that sends half, then waits for ever.
    const stalling = async function* () {
      yield s.data.subarray(0, 1_000_000);
      await new Promise(() => undefined);
    };
    const put = client.put(s.key, stalling(), { signal: aborter.signal });
    // Aborted once the server holds some of it (another client asks; bounded).
    const other = await connect({ url: url(), uuid, auth: AUTH });
    const heldSome = async () => {
      const at = await other.putOffset(s.key);
      return !at.alreadyHave && at.offset > 0 ? at.offset : 0;
    };
    let offset = 0;
    for (let i = 0; i < 300 && offset === 0; i++) {
      offset = await heldSome();
      if (offset === 0) await new Promise((r) => setTimeout(r, 100));
    }
    aborter.abort();
    await assert.rejects(put, AbortedError);
    await other.close();
    assert.ok(offset > 0 && offset <= 1_000_000, `resume offset ${offset}`);
    const firstSent: number[] = [];
    const r = await client.put(s.key, s.data, { onProgress: (sent) => firstSent.push(sent) });
    assert.equal(r.stored, true);
    assert.ok((firstSent[0] ?? 0) > offset, "progress counts from the resume offset");
    assert.deepEqual(await client.getBytes(s.key), s.data);
  });

  it("gets from an offset, and checks the hash from the start", async () => {
    const s = sample(300_000);
    await client.put(s.key, s.data);
    const tail = await client.get(s.key, { offset: 123_456 });
    assert.ok(tail);
    assert.equal(tail.length, 300_000 - 123_456);
    const bytes = new Uint8Array(await new Response(tail.body).arrayBuffer());
    assert.deepEqual(bytes, s.data.subarray(123_456));
    assert.equal(await tail.valid, true);
    // A key the server lacks: absent, and no download.
    const liar = { ...s.key, name: `${"0".repeat(64)}.bin` };
    assert.equal(await client.checkPresent(liar), false);
    assert.equal(await client.get(liar), null);
  });

  it("holds a lock until released: the content cannot be removed meanwhile", async () => {
    const s = sample(10_000);
    await client.put(s.key, s.data);
    const lock = await client.lockContent(s.key);
    assert.ok(lock);
    assert.equal(lock.untilReleased, true);
    const other = await connect({ url: url(), uuid, auth: AUTH });
    assert.equal((await other.remove(s.key)).removed, false);
    assert.equal(await client.checkPresent(s.key), true);
    await lock.release();
    assert.equal((await other.remove(s.key)).removed, true);
    assert.equal(await client.lockContent(s.key), null);
    await other.close();
  });

  it("says when a held lock is lost: its server went away", async () => {
    const second = await startAnnexgate(dir, ["--authenv-http"], {
      GIT_ANNEX_P2PHTTP_PASSWORD_alice: AUTH.password,
    });
    const c = await connect({
      url: `annex+http://127.0.0.1:${second.port}/git-annex/`,
      uuid,
      auth: AUTH,
    });
    const s = sample(1000);
    await c.put(s.key, s.data);
    const lock = await c.lockContent(s.key);
    assert.ok(lock);
    await second.stop();
    assert.ok((await lock.lost) instanceof Error);
    await lock.release(); // harmless after the loss
    await c.close();
  });

  it("settles on the version asked for, and refuses what that version lacks", async () => {
    const v1 = await connect({ url: url(), uuid, auth: AUTH, maxVersion: 1 });
    assert.equal(v1.version, 1);
    const s = sample(50_000);
    assert.equal((await v1.put(s.key, s.data)).stored, true);
    assert.deepEqual(await v1.getBytes(s.key), s.data);
    await assert.rejects(
      v1.getTimestamp(),
      (e: unknown) => e instanceof RefusedError && e.data.unsupported === true,
    );
    await assert.rejects(v1.putPresent(s.key), RefusedError);
    await v1.close();
  });
});

/**
 * A GET body that breaks off (a reset, or no progress for the stall
 * timeout, even before its first byte) is continued from the first byte
 * still missing, a bounded number of times; one whose continuation promises
 * other bytes than the rest is not.
 */
describe("annexgate/client continues a download that broke off", () => {
  const uuid = "7b1a2c3d-1111-4222-8333-444455556666";
  const s = sample(300_000);
  let mode: (offset: number) => DownloadScript = () => "whole";
  let fake: FakeP2pHttp;
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
  const clientWith = (stallTimeoutMs: number) =>
    connect({ url: fake.url(), uuid, stallTimeoutMs, maxVersion: 4 });
  const bytesOf = async (body: ReadableStream<Uint8Array>) =>
    new Uint8Array(await new Response(body).arrayBuffer());

  it("after a connection ended mid-body: the rest is asked for, and the hash checked", async () => {
    const c = await clientWith(60_000);
    mode = (offset) => (offset === 0 ? "reset" : "whole");
    const got = await c.get(s.key);
    assert.ok(got);
    assert.deepEqual(await bytesOf(got.body), s.data);
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [0, 100_000]);
    await c.close();
  });

  it("after a server that sent no byte of the body: asked again from the same offset", async () => {
    const c = await clientWith(2_000);
    let silent = 1;
    mode = () => (silent-- > 0 ? "silent" : "whole");
    const got = await c.get(s.key, { offset: 500 });
    assert.ok(got);
    assert.deepEqual(await bytesOf(got.body), s.data.subarray(500));
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [500, 500]);
    await c.close();
  });

  it("a GET left unanswered (not even headers) is asked again", async () => {
    const c = await clientWith(2_000);
    let unanswered = 1;
    mode = () => (unanswered-- > 0 ? "unanswered" : "whole");
    const got = await c.get(s.key);
    assert.ok(got);
    assert.deepEqual(await bytesOf(got.body), s.data);
    assert.equal(await got.valid, true);
    assert.deepEqual(gets(), [0, 0]);
    await c.close();
  });

  it("once: a server that never answers fails the download after two GETs", async () => {
    const c = await clientWith(1_000);
    mode = () => "unanswered";
    await assert.rejects(c.get(s.key), /no answer for/);
    assert.deepEqual(gets(), [0, 0]);
    await c.close();
  });

  it("no more once the reader cancelled, even while a continuation waits for its answer", async () => {
    const c = await clientWith(60_000);
    mode = (offset) => (offset === 0 ? "reset" : "unanswered");
    const got = await c.get(s.key);
    assert.ok(got);
    const reader = got.body.getReader();
    const reading = (async () => {
      for (;;) if ((await reader.read()).done) return;
    })().catch(() => undefined);
    await waitFor("the continuation to reach the server", async () => gets().length === 2);
    await reader.cancel();
    await reading;
    await waitFor("the continuation to be ended", async () => fake.closedEarly >= 1);
    assert.equal(await got.valid, false);
    assert.deepEqual(gets(), [0, 100_000]);
    await c.close();
  });

  it("a bounded number of times: a server that never sends fails the download", async () => {
    const c = await clientWith(1_000);
    mode = () => "silent";
    const got = await c.get(s.key);
    assert.ok(got);
    await assert.rejects(bytesOf(got.body), UnreachableError);
    assert.equal(await got.valid, false);
    assert.deepEqual(gets(), [0, 0, 0, 0]);
    await c.close();
  });

  it("not when the continuation promises other bytes than the rest", async () => {
    const c = await clientWith(60_000);
    mode = (offset) => (offset === 0 ? "reset" : "wrong length");
    const got = await c.get(s.key);
    assert.ok(got);
    await assert.rejects(bytesOf(got.body), /continued with a different length/);
    assert.equal(await got.valid, false);
    assert.deepEqual(gets(), [0, 100_000]);
    await c.close();
  });
});
