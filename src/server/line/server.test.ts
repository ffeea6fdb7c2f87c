import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { locationsOf } from "../../branch/index.js";
import { genUuid, type Key, parseKey } from "../../keys/index.js";
import {
  type LocalRepository,
  monotonicSeconds,
  openLocalRepository,
  type Peer,
  type PeerContext,
} from "../../peers/index.js";
import { type Message, MessageChannel } from "../../protocol/index.js";
import type { ServeMode } from "../http/auth.js";
import { gitServiceRunner } from "./connect.js";
import { type LineServeEnd, type LineServeOptions, LineServerError, serveLine } from "./server.js";

const CLIENT = genUuid();

function content(tag: string, size: number): { data: Buffer; key: Key } {
  const data = Buffer.alloc(size);
  const unit = Buffer.from(`${tag}\n`);
  for (let i = 0; i < size; i += unit.length) unit.copy(data, i);
  const hex = createHash("sha256").update(data).digest("hex");
  return { data, key: parseKey(`SHA256E-s${size}--${hex}.bin`) };
}

/** Reads a DATA payload to its end. */
async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** One client connection to serveLine over an in-memory stream pair. */
class Conn {
  readonly toServer = new PassThrough();
  readonly fromServer = new PassThrough();
  readonly client = new MessageChannel(this.fromServer, this.toServer);
  readonly ended: Promise<LineServeEnd>;

  constructor(opts: LineServeOptions) {
    this.ended = serveLine(new MessageChannel(this.toServer, this.fromServer), opts);
    // A test that expects a failure awaits `ended` itself.
    this.ended.catch(() => undefined);
  }

  send(m: Message): Promise<void> {
    return this.client.send(m);
  }

  async recv(): Promise<Message | null> {
    return this.client.receive();
  }

  async ask(m: Message): Promise<Message | null> {
    await this.send(m);
    return this.recv();
  }

  /** Greeting and VERSION negotiation, as a git-annex client does. */
  async open(version = 4): Promise<this> {
    assert.equal((await this.recv())?.type, "AUTH-SUCCESS");
    assert.deepEqual(await this.ask({ type: "VERSION", version }), {
      type: "VERSION",
      version,
    });
    return this;
  }

  /** PUT `key`, then send all of `data` whatever the answer (no VALID/INVALID yet). */
  async putWhole(key: Key, data: Buffer): Promise<void> {
    await this.ask({ type: "PUT", associatedFile: null, key });
    await this.client.sendData(data.length, Readable.from([data]));
  }

  /** Hang up: the server sees the end of its input. */
  hangUp(): void {
    this.toServer.end();
  }
}

/** A Peer over the repository's LocalPeer that reports extra UUIDs and records contexts. */
class PlusPeer implements Peer {
  readonly contexts: PeerContext[] = [];
  failWith: Error | null = null;
  constructor(
    private readonly inner: Peer,
    private readonly plus: readonly string[],
  ) {}
  get uuid(): string {
    return this.inner.uuid;
  }
  private note(ctx?: PeerContext): void {
    if (ctx) this.contexts.push(ctx);
    if (this.failWith) throw this.failWith;
  }
  async checkPresent(key: Key, ctx?: PeerContext) {
    this.note(ctx);
    return this.inner.checkPresent(key, ctx);
  }
  async lockContent(key: Key, ctx?: PeerContext) {
    this.note(ctx);
    return this.inner.lockContent(key, ctx);
  }
  async remove(key: Key, opts?: { before?: number }, ctx?: PeerContext) {
    this.note(ctx);
    const r = await this.inner.remove(key, opts, ctx);
    return { ...r, plusUuids: this.plus };
  }
  async getTimestamp(ctx?: PeerContext) {
    this.note(ctx);
    return this.inner.getTimestamp(ctx);
  }
  async putOffset(key: Key, ctx?: PeerContext) {
    this.note(ctx);
    const r = await this.inner.putOffset(key, ctx);
    return r.alreadyHave ? { ...r, plusUuids: this.plus } : r;
  }
  async store(req: Parameters<Peer["store"]>[0], ctx?: PeerContext) {
    this.note(ctx);
    const r = await this.inner.store(req, ctx);
    return { ...r, plusUuids: this.plus };
  }
  async storePresent(key: Key, ctx?: PeerContext) {
    this.note(ctx);
    const r = await this.inner.storePresent(key, ctx);
    return { ...r, plusUuids: this.plus };
  }
  async retrieve(key: Key, offset: number, ctx?: PeerContext) {
    this.note(ctx);
    return this.inner.retrieve(key, offset, ctx);
  }
  async close() {}
}

describe("serveLine over an in-memory stream pair, on a real repository", () => {
  let dir = "";
  let repo: LocalRepository;
  const conns: Conn[] = [];

  before(async () => {
    dir = await makeTempDir("annexgate-line-");
    await gitAnnexRepo(dir, "served");
    repo = await openLocalRepository(dir, { commitDelayMs: 20 });
  });

  after(async () => {
    for (const c of conns) c.hangUp();
    await Promise.allSettled(conns.map((c) => c.ended));
    await repo.close();
    await removeDir(dir);
  });

  function connect(opts: Partial<LineServeOptions> = {}): Conn {
    const c = new Conn({ peer: repo.peer, mode: "readwrite", clientUuid: CLIENT, ...opts });
    conns.push(c);
    return c;
  }

  /** PUT the whole content on a fresh connection; returns the final reply. */
  async function put(data: Buffer, key: Key, version = 4): Promise<Message | null> {
    const c = await connect().open(version);
    const r = await c.ask({ type: "PUT", associatedFile: "f.bin", key });
    if (r?.type !== "PUT-FROM") return r;
    await c.client.sendData(data.length - r.offset, Readable.from([data.subarray(r.offset)]));
    if (version >= 1) await c.send({ type: "VALID" });
    const reply = await c.recv();
    c.hangUp();
    return reply;
  }

  it("greets with AUTH-SUCCESS and negotiates the version down to 4", async () => {
    const c = connect();
    assert.deepEqual(await c.recv(), { type: "AUTH-SUCCESS", uuid: repo.uuid });
    assert.deepEqual(await c.ask({ type: "VERSION", version: 9 }), {
      type: "VERSION",
      version: 4,
    });
    assert.deepEqual(await c.ask({ type: "VERSION", version: 2 }), {
      type: "VERSION",
      version: 2,
    });
    c.hangUp();
    assert.deepEqual(await c.ended, { reason: "closed" });
  });

  it("answers an unparseable line with ERROR and goes on; an ERROR from the client ends the loop", async () => {
    const c = await connect().open();
    c.toServer.write("GARBAGE\nCHECKPRESENT not-a-key\n");
    assert.deepEqual(await c.recv(), { type: "ERROR", message: "unknown command" });
    assert.deepEqual(await c.recv(), { type: "ERROR", message: "unknown command" });
    const { key } = content("absent", 10);
    assert.deepEqual(await c.ask({ type: "CHECKPRESENT", key }), { type: "FAILURE" });
    // A message that is not a request.
    assert.deepEqual(await c.ask({ type: "SUCCESS" }), {
      type: "ERROR",
      message: "unexpected command",
    });
    await c.send({ type: "ERROR", message: "giving up" });
    assert.deepEqual(await c.ended, { reason: "client-error", message: "giving up" });
  });

  it("stores with PUT, PUT-FROM, DATA and VALID, and records the location", async () => {
    const { data, key } = content("put", 300_000);
    assert.deepEqual(await put(data, key), { type: "SUCCESS" });
    assert.deepEqual(await readFile(repo.store.objectFile(key)), data);
    const c = await connect().open();
    assert.deepEqual(await c.ask({ type: "CHECKPRESENT", key }), { type: "SUCCESS" });
    // Already there: ALREADY-HAVE, no data asked for.
    assert.deepEqual(await c.ask({ type: "PUT", associatedFile: null, key }), {
      type: "ALREADY-HAVE",
    });
    c.hangUp();
    assert.ok((await locationsOf(repo.branch, key)).includes(repo.uuid));
  });

  it("stores in protocol version 0, where no VALID follows DATA", async () => {
    const { data, key } = content("v0", 5000);
    assert.deepEqual(await put(data, key, 0), { type: "SUCCESS" });
    assert.ok(await repo.store.has(key));
  });

  it("stores nothing when the client hangs up inside DATA, then resumes from what arrived", async () => {
    const { data, key } = content("resume", 200_000);
    const c = await connect().open();
    assert.deepEqual(await c.ask({ type: "PUT", associatedFile: null, key }), {
      type: "PUT-FROM",
      offset: 0,
    });
    // DATA promises everything; only the first 70000 bytes come.
    c.toServer.write(`DATA ${data.length}\n`);
    c.toServer.write(data.subarray(0, 70_000));
    c.hangUp();
    assert.deepEqual(await c.ended, { reason: "closed" });
    assert.equal(await repo.store.has(key), false);

    const d = await connect().open();
    const r = await d.ask({ type: "PUT", associatedFile: null, key });
    assert.deepEqual(r, { type: "PUT-FROM", offset: 70_000 });
    await d.client.sendData(data.length - 70_000, Readable.from([data.subarray(70_000)]));
    await d.send({ type: "VALID" });
    assert.deepEqual(await d.recv(), { type: "SUCCESS" });
    assert.deepEqual(await readFile(repo.store.objectFile(key)), data);
    d.hangUp();
  });

  it("stores complete content whose sender hung up before VALID (verified), then ends", async () => {
    const { data, key } = content("novalid-hangup", 90_000);
    const c = await connect().open();
    await c.putWhole(key, data);
    c.hangUp();
    assert.deepEqual(await c.ended, { reason: "closed" });
    assert.deepEqual(await readFile(repo.store.objectFile(key)), data);
    // Wrong bytes of the right length, then a hang-up: verified, not stored.
    const bad = content("novalid-hangup-bad", 5000);
    const d = await connect().open();
    await d.putWhole(bad.key, Buffer.alloc(5000, "z"));
    d.hangUp();
    assert.deepEqual(await d.ended, { reason: "closed" });
    assert.equal(await repo.store.has(bad.key), false);
  });

  it("stores nothing when the sender says INVALID, and the connection stays usable", async () => {
    const { data, key } = content("invalid", 100_000);
    const c = await connect().open();
    await c.putWhole(key, data);
    await c.send({ type: "INVALID" });
    assert.deepEqual(await c.recv(), { type: "FAILURE" });
    assert.equal(await repo.store.has(key), false);
    assert.deepEqual(await c.ask({ type: "CHECKPRESENT", key }), { type: "FAILURE" });
    c.hangUp();
  });

  it("answers something other than VALID/INVALID after DATA with ERROR, then verifies and stores", async () => {
    const { data, key } = content("novalidity", 1000);
    const c = await connect().open();
    await c.putWhole(key, data);
    await c.send({ type: "GETTIMESTAMP" });
    assert.deepEqual(await c.recv(), { type: "ERROR", message: "expected VALID or INVALID" });
    assert.deepEqual(await c.recv(), { type: "SUCCESS" });
    assert.ok(await repo.store.has(key));
    c.hangUp();
  });

  it("handles DATA-PRESENT in version 4 only; ERROR instead of DATA is a silent give-up", async () => {
    const { data, key } = content("present", 2000);
    const c = await connect().open(4);
    assert.equal((await c.ask({ type: "PUT", associatedFile: null, key }))?.type, "PUT-FROM");
    assert.deepEqual(await c.ask({ type: "DATA-PRESENT" }), { type: "FAILURE" });
    // The content arrives by other means, then DATA-PRESENT says so.
    assert.equal((await c.ask({ type: "PUT", associatedFile: null, key }))?.type, "PUT-FROM");
    assert.deepEqual(await repo.store.receive(key, 0, data.length, Readable.from([data])), {
      ok: true,
    });
    assert.deepEqual(await c.ask({ type: "DATA-PRESENT" }), { type: "SUCCESS" });
    c.hangUp();

    const other = content("present3", 10);
    const v3 = await connect().open(3);
    await v3.ask({ type: "PUT", associatedFile: null, key: other.key });
    assert.deepEqual(await v3.ask({ type: "DATA-PRESENT" }), {
      type: "ERROR",
      message: "expected DATA",
    });
    await v3.ask({ type: "PUT", associatedFile: null, key: other.key });
    await v3.send({ type: "ERROR", message: "changed my mind" });
    // No reply to that ERROR; the loop goes on.
    assert.deepEqual(await v3.ask({ type: "CHECKPRESENT", key: other.key }), {
      type: "FAILURE",
    });
    v3.hangUp();
    assert.deepEqual(await v3.ended, { reason: "closed" });
  });

  it("sends content with GET: DATA, bytes, VALID; resumes at an offset; missing content is DATA 0 INVALID", async () => {
    const { data, key } = content("get", 400_000);
    assert.deepEqual(await put(data, key), { type: "SUCCESS" });
    const c = await connect().open();
    await c.send({ type: "GET", offset: 0, associatedFile: "x", key });
    const d = await c.recv();
    assert.deepEqual(d, { type: "DATA", length: data.length });
    assert.deepEqual(await collect(c.client.receiveData(data.length)), data);
    assert.deepEqual(await c.recv(), { type: "VALID" });
    await c.send({ type: "SUCCESS" });

    await c.send({ type: "GET", offset: 123_456, associatedFile: null, key });
    assert.deepEqual(await c.recv(), { type: "DATA", length: data.length - 123_456 });
    assert.deepEqual(
      await collect(c.client.receiveData(data.length - 123_456)),
      data.subarray(123_456),
    );
    assert.deepEqual(await c.recv(), { type: "VALID" });
    await c.send({ type: "SUCCESS" });

    // Past the end: nothing to send, and it is valid.
    await c.send({ type: "GET", offset: data.length + 5, associatedFile: null, key });
    assert.deepEqual(await c.recv(), { type: "DATA", length: 0 });
    assert.deepEqual(await c.recv(), { type: "VALID" });
    await c.send({ type: "FAILURE" });

    const missing = content("missing", 10);
    await c.send({ type: "GET", offset: 0, associatedFile: null, key: missing.key });
    assert.deepEqual(await c.recv(), { type: "DATA", length: 0 });
    assert.deepEqual(await c.recv(), { type: "INVALID" });
    // A reply that is neither SUCCESS nor FAILURE is told off (version 2+ wording).
    assert.deepEqual(await c.ask({ type: "VALID" }), {
      type: "ERROR",
      message: "expected SUCCESS or SUCCESS-PLUS or FAILURE or FAILURE-PLUS",
    });
    c.hangUp();

    const v0 = await connect().open(0);
    await v0.send({ type: "GET", offset: 0, associatedFile: null, key });
    assert.deepEqual(await v0.recv(), { type: "DATA", length: data.length });
    assert.deepEqual(await collect(v0.client.receiveData(data.length)), data);
    // Version 0: no VALID; the next message is the answer to the client's reply.
    assert.deepEqual(await v0.ask({ type: "VALID" }), {
      type: "ERROR",
      message: "expected SUCCESS or FAILURE",
    });
    v0.hangUp();
  });

  it("holds LOCKCONTENT until UNLOCKCONTENT, another message, or the end of the connection", async () => {
    const { data, key } = content("lock", 3000);
    assert.deepEqual(await put(data, key), { type: "SUCCESS" });
    const holder = await connect().open();
    const remover = await connect().open();
    assert.deepEqual(await holder.ask({ type: "LOCKCONTENT", key }), { type: "SUCCESS" });
    assert.deepEqual(await remover.ask({ type: "REMOVE", key }), { type: "FAILURE" });
    await holder.send({ type: "UNLOCKCONTENT" });
    assert.deepEqual(await holder.ask({ type: "CHECKPRESENT", key }), { type: "SUCCESS" });

    // Not UNLOCKCONTENT: told off, and the lock is gone.
    assert.deepEqual(await holder.ask({ type: "LOCKCONTENT", key }), { type: "SUCCESS" });
    assert.deepEqual(await holder.ask({ type: "GETTIMESTAMP" }), {
      type: "ERROR",
      message: "expected UNLOCKCONTENT",
    });
    // The connection ends while locked: released.
    assert.deepEqual(await holder.ask({ type: "LOCKCONTENT", key }), { type: "SUCCESS" });
    holder.hangUp();
    assert.deepEqual(await holder.ended, { reason: "closed" });
    assert.deepEqual(await remover.ask({ type: "REMOVE", key }), { type: "SUCCESS" });
    assert.equal(await repo.store.has(key), false);
    // Nothing to lock now; removing what is not there succeeds.
    assert.deepEqual(await remover.ask({ type: "LOCKCONTENT", key }), { type: "FAILURE" });
    assert.deepEqual(await remover.ask({ type: "REMOVE", key }), { type: "SUCCESS" });
    remover.hangUp();
  });

  it("GETTIMESTAMP reads the monotonic clock; REMOVE-BEFORE fails once it has passed", async () => {
    const { data, key } = content("before", 100);
    assert.deepEqual(await put(data, key), { type: "SUCCESS" });
    const c = await connect().open();
    const ts = await c.ask({ type: "GETTIMESTAMP" });
    assert.equal(ts?.type, "TIMESTAMP");
    const now = ts?.type === "TIMESTAMP" ? ts.timestamp : -1;
    assert.ok(Math.abs(now - monotonicSeconds()) <= 1);
    assert.deepEqual(await c.ask({ type: "REMOVE-BEFORE", timestamp: now - 1, key }), {
      type: "FAILURE",
    });
    assert.ok(await repo.store.has(key));
    assert.deepEqual(await c.ask({ type: "REMOVE-BEFORE", timestamp: now + 600, key }), {
      type: "SUCCESS",
    });
    assert.equal(await repo.store.has(key), false);
    c.hangUp();
  });

  for (const [mode, putAnswer, removeAnswer] of [
    [
      "readonly",
      "this repository is read-only; write access denied",
      "this repository is read-only; write access denied",
    ],
    ["appendonly", null, "this repository is append-only; removal denied"],
  ] as const) {
    it(`refuses what ${mode} mode forbids with git-annex's ERROR, and goes on`, async () => {
      const { data, key } = content(`mode-${mode}`, 500);
      assert.deepEqual(await put(data, key), { type: "SUCCESS" });
      const fresh = content(`mode-${mode}-new`, 500);
      const c = await connect({ mode: mode as ServeMode }).open();
      const p = await c.ask({ type: "PUT", associatedFile: null, key: fresh.key });
      if (putAnswer === null) assert.deepEqual(p, { type: "PUT-FROM", offset: 0 });
      else assert.deepEqual(p, { type: "ERROR", message: putAnswer });
      if (putAnswer === null) {
        await c.client.sendData(fresh.data.length, Readable.from([fresh.data]));
        await c.send({ type: "VALID" });
        assert.deepEqual(await c.recv(), { type: "SUCCESS" });
      }
      assert.deepEqual(await c.ask({ type: "REMOVE", key }), {
        type: "ERROR",
        message: removeAnswer,
      });
      assert.deepEqual(await c.ask({ type: "REMOVE-BEFORE", timestamp: 1e9, key }), {
        type: "ERROR",
        message: removeAnswer,
      });
      assert.ok(await repo.store.has(key));
      // Reading is allowed.
      assert.deepEqual(await c.ask({ type: "CHECKPRESENT", key }), { type: "SUCCESS" });
      assert.deepEqual(await c.ask({ type: "LOCKCONTENT", key }), { type: "SUCCESS" });
      await c.send({ type: "UNLOCKCONTENT" });
      // A push could rewrite refs: refused, and the connection ends.
      assert.deepEqual(await c.ask({ type: "CONNECT", service: "git-receive-pack" }), {
        type: "ERROR",
        message: "this repository is read-only; write access denied",
      });
      assert.deepEqual(await c.ended, { reason: "refused-connect" });
    });
  }

  it("reports plus UUIDs as -PLUS messages from version 2 on, plain before; BYPASS reaches the Peer", async () => {
    const plus = [genUuid(), genUuid()];
    const peer = new PlusPeer(repo.peer, plus);
    const { data, key } = content("plus", 1000);
    for (const version of [1, 2]) {
      const c = await connect({ peer }).open(version);
      if (version === 2) await c.send({ type: "BYPASS", uuids: plus.slice(0, 1) });
      const r = await c.ask({ type: "PUT", associatedFile: null, key });
      if (r?.type === "PUT-FROM") {
        await c.client.sendData(data.length, Readable.from([data]));
        await c.send({ type: "VALID" });
        assert.deepEqual(await c.recv(), { type: "SUCCESS" });
        assert.equal(version, 1);
      } else {
        assert.deepEqual(r, { type: "ALREADY-HAVE-PLUS", uuids: plus });
        assert.equal(version, 2);
        assert.deepEqual(peer.contexts.at(-1)?.bypass, plus.slice(0, 1));
        assert.equal(peer.contexts.at(-1)?.clientUuid, CLIENT);
        assert.deepEqual(await c.ask({ type: "REMOVE", key }), {
          type: "SUCCESS-PLUS",
          uuids: plus,
        });
        assert.deepEqual(await c.ask({ type: "PUT", associatedFile: null, key }), {
          type: "PUT-FROM",
          offset: 0,
        });
        await c.client.sendData(data.length, Readable.from([data]));
        await c.send({ type: "INVALID" });
        assert.deepEqual(await c.recv(), { type: "FAILURE-PLUS", uuids: plus });
      }
      c.hangUp();
    }
  });

  it("answers a Peer's failure with ERROR and its message, and goes on", async () => {
    const peer = new PlusPeer(repo.peer, []);
    const { key } = content("fail", 10);
    const c = await connect({ peer }).open();
    peer.failWith = new Error("disk on fire\nsecond line");
    assert.deepEqual(await c.ask({ type: "CHECKPRESENT", key }), {
      type: "ERROR",
      message: "disk on fire second line",
    });
    // Taking a lock that throws is a FAILURE, as git-annex answers it.
    assert.deepEqual(await c.ask({ type: "LOCKCONTENT", key }), { type: "FAILURE" });
    peer.failWith = null;
    assert.deepEqual(await c.ask({ type: "CHECKPRESENT", key }), { type: "FAILURE" });
    c.hangUp();
  });

  it("gives up on NOTIFYCHANGE, and on CONNECT without a git service, as stock p2pstdio does", async () => {
    const c = await connect().open();
    await c.send({ type: "NOTIFYCHANGE" });
    await assert.rejects(c.ended, (e: unknown) => {
      assert.ok(e instanceof LineServerError);
      assert.equal(e.message, "change notification not available");
      return true;
    });
    const d = await connect().open();
    await d.send({ type: "CONNECT", service: "git-upload-pack" });
    await assert.rejects(d.ended, /relaying to git not supported on this connection/);
  });

  it("relays CONNECT git-upload-pack to git and ends with CONNECTDONE", async () => {
    const c = await connect({ connect: gitServiceRunner(dir) }).open();
    await c.send({ type: "CONNECT", service: "git-upload-pack" });
    // The ref advertisement comes as DATA; a flush packet ends the session.
    let advertised = Buffer.alloc(0);
    let m = await c.recv();
    while (m?.type === "DATA") {
      advertised = Buffer.concat([advertised, await collect(c.client.receiveData(m.length))]);
      if (advertised.subarray(-4).toString() === "0000") break;
      m = await c.recv();
    }
    assert.match(advertised.toString(), /refs\/heads\/git-annex/);
    await c.client.sendData(4, Readable.from([Buffer.from("0000")]));
    assert.deepEqual(await c.recv(), { type: "CONNECTDONE", exitCode: 0 });
    assert.deepEqual(await c.ended, { reason: "connected", exitCode: 0 });
  });
});
