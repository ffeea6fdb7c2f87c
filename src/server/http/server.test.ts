import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import {
  type ClientRequest,
  createServer,
  type IncomingHttpHeaders,
  request,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../../../test/helpers/index.js";
import { formatKey, genUuid, type Key, parseKey } from "../../keys/index.js";
import { type LocalRepository, openLocalRepository } from "../../peers/index.js";
import { RecordingLogger } from "../../util/index.js";
import { Authorizer } from "./auth.js";
import { type P2pHttpOptions, P2pHttpServer } from "./server.js";

const CLIENT = genUuid();

function sha256eKey(data: Buffer, ext = ".bin"): Key {
  const hex = createHash("sha256").update(data).digest("hex");
  return parseKey(`SHA256E-s${data.length}--${hex}${ext}`);
}

function content(tag: string, size: number): { data: Buffer; key: Key; k: string } {
  const data = Buffer.alloc(size);
  const unit = Buffer.from(`${tag}\n`);
  for (let i = 0; i < size; i += unit.length) unit.copy(data, i);
  const key = sha256eKey(data);
  return { data, key, k: encodeURIComponent(formatKey(key)) };
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request whose body the test writes (and ends) itself. */
interface OpenRequest {
  readonly req: ClientRequest;
  readonly reply: Promise<Reply>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves with `p`, or with "pending" if it has not settled within `ms`. */
function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  return Promise.race([p, sleep(ms).then(() => "pending" as const)]);
}

async function waitFor(what: string, test: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** An annexgate p2phttp server, in this process, on a loopback port. */
class Harness {
  dir = "";
  repo!: LocalRepository;
  server!: Server;
  p2p!: P2pHttpServer;
  port = 0;
  readonly logger = new RecordingLogger();

  /** What was logged as a problem (warnings and errors; request lines aside). */
  get logged(): string[] {
    return this.logger.lines().filter((l) => !l.startsWith("info "));
  }

  constructor(private readonly opts: Partial<P2pHttpOptions> = {}) {}

  async start(): Promise<this> {
    this.dir = await makeTempDir("annexgate-p2phttp-");
    await gitAnnexRepo(this.dir, "served");
    this.repo = await openLocalRepository(this.dir, { commitDelayMs: 20 });
    const repo = this.repo;
    this.p2p = new P2pHttpServer({
      peers: { lookup: async (u) => (u === repo.uuid ? repo.peer : null) },
      auth: new Authorizer({ wideOpen: true }),
      jobs: 4,
      secure: false,
      logger: this.logger,
      ...this.opts,
    });
    this.server = createServer(this.p2p.handle);
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
    await this.p2p.close();
    await this.repo.close();
    await removeDir(this.dir);
  }

  get uuid(): string {
    return this.repo.uuid;
  }

  /** `/git-annex/<uuid>/v<v>/<op>?<query>` with clientuuid added. */
  path(v: number, op: string, query: Record<string, string> = {}): string {
    const q = new URLSearchParams({ clientuuid: CLIENT, ...query });
    return `/git-annex/${this.uuid}/v${v}/${op}?${q}`;
  }

  open(method: string, path: string, headers: Record<string, string> = {}): OpenRequest {
    const req = request({
      host: "127.0.0.1",
      port: this.port,
      method,
      path,
      headers,
      agent: false,
    });
    const reply = new Promise<Reply>((resolve, reject) => {
      req.on("error", reject);
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      });
    });
    return { req, reply };
  }

  fetch(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Reply> {
    const { req, reply } = this.open(method, path, opts.headers);
    req.end(opts.body);
    return reply;
  }

  async json(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<unknown> {
    const r = await this.fetch(method, path, opts);
    assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${r.body.toString()}`);
    assert.equal(r.headers["content-type"], "application/json;charset=utf-8");
    return JSON.parse(r.body.toString("utf8"));
  }

  put(
    v: number,
    c: { data: Buffer; key: Key },
    query: Record<string, string> = {},
    body = c.data,
  ): Promise<unknown> {
    return this.json("POST", this.path(v, "put", { key: formatKey(c.key), ...query }), {
      headers: { "X-git-annex-data-length": String(body.length) },
      body,
    });
  }

  async present(key: Key): Promise<boolean> {
    const r = (await this.json("POST", this.path(4, "checkpresent", { key: formatKey(key) }))) as {
      present: boolean;
    };
    return r.present;
  }

  remove(key: Key, v = 4): Promise<unknown> {
    return this.json("POST", this.path(v, "remove", { key: formatKey(key) }));
  }

  lock(key: Key): Promise<{ locked: boolean; lockid?: string }> {
    return this.json("POST", this.path(4, "lockcontent", { key: formatKey(key) })) as Promise<{
      locked: boolean;
      lockid?: string;
    }>;
  }

  /** keeplocked with the body left open for the test to write. */
  keepLocked(lockid: string): OpenRequest {
    return this.open("POST", this.path(4, "keeplocked", { lockid }), {
      "Content-Type": "application/json",
      "Transfer-Encoding": "chunked",
      Connection: "Keep-Alive",
      "Keep-Alive": "timeout=1200",
    });
  }
}

describe("P2pHttpServer", () => {
  describe("endpoints", () => {
    const h = new Harness();
    before(() => h.start());
    after(() => h.stop());

    it("put stores, with the result shape of each version", async () => {
      for (const v of [0, 1, 2, 3, 4]) {
        const c = content(`put v${v}`, 1000 + v);
        const r = await h.put(v, c);
        assert.deepEqual(r, v >= 2 ? { stored: true, plusuuids: [] } : { stored: true });
        assert.deepEqual(await readFile(h.repo.store.objectFile(c.key)), c.data);
        assert.equal(await h.present(c.key), true);
      }
    });

    it("put records the location in the git-annex branch", async () => {
      const c = content("located", 321);
      await h.put(4, c);
      await h.repo.branch.commit();
      const out = await run("git", ["annex", "whereis", "--json", `--key=${formatKey(c.key)}`], {
        cwd: h.dir,
      });
      const uuids = (JSON.parse(out) as { whereis: { uuid: string }[] }).whereis.map((w) => w.uuid);
      assert.deepEqual(uuids, [h.uuid]);
    });

    it("put of wrong content stores nothing", async () => {
      const c = content("wrong", 500);
      const r = await h.put(4, c, {}, content("other", 500).data);
      assert.deepEqual(r, { stored: false, plusuuids: [] });
      assert.equal(await h.present(c.key), false);
    });

    it("put of a body longer than promised stores nothing and answers", async () => {
      const c = content("too long", 5000);
      const body = Buffer.concat([c.data, Buffer.from("trailing garbage")]);
      const r = await h.fetch("POST", h.path(4, "put", { key: formatKey(c.key) }), {
        headers: { "X-git-annex-data-length": String(c.data.length) },
        body,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body.toString()), { stored: false, plusuuids: [] });
      assert.equal(await h.present(c.key), false);
    });

    it("checkpresent answers for present and absent keys at every version", async () => {
      const c = content("checkpresent", 200);
      await h.put(4, c);
      const absent = content("absent", 200);
      for (const v of [0, 1, 2, 3, 4]) {
        assert.deepEqual(
          await h.json("POST", h.path(v, "checkpresent", { key: formatKey(c.key) })),
          {
            present: true,
          },
        );
        assert.deepEqual(
          await h.json("POST", h.path(v, "checkpresent", { key: formatKey(absent.key) })),
          { present: false },
        );
      }
    });

    it("putoffset: offset of a partial upload, then alreadyhave", async () => {
      const c = content("putoffset", 3000);
      assert.deepEqual(await h.json("POST", h.path(4, "putoffset", { key: formatKey(c.key) })), {
        offset: 0,
      });
      // A short body leaves a resumable tmp file.
      const short = await h.fetch("POST", h.path(4, "put", { key: formatKey(c.key) }), {
        headers: { "X-git-annex-data-length": "3000" },
        body: c.data.subarray(0, 1200),
      });
      assert.equal(short.status, 200);
      assert.deepEqual(JSON.parse(short.body.toString()), { stored: false, plusuuids: [] });
      assert.deepEqual(await h.json("POST", h.path(4, "putoffset", { key: formatKey(c.key) })), {
        offset: 1200,
      });
      // Resume from there.
      assert.deepEqual(await h.put(4, c, { offset: "1200" }, c.data.subarray(1200)), {
        stored: true,
        plusuuids: [],
      });
      for (const v of [1, 2, 3, 4]) {
        assert.deepEqual(
          await h.json("POST", h.path(v, "putoffset", { key: formatKey(c.key) })),
          v >= 2 ? { alreadyhave: true, plusuuids: [] } : { alreadyhave: true },
        );
      }
    });

    it("put with data-present is stored when the content is present, not from annex/tmp", async () => {
      // As git-annex answers DATA-PRESENT: by checking the repository's content.
      const c = content("data-present", 800);
      await mkdir(h.repo.store.layout.tmpDir, { recursive: true });
      await writeFile(h.repo.store.tmpFile(c.key), c.data);
      const dataPresent = () =>
        h.json("POST", h.path(4, "put", { key: formatKey(c.key), "data-present": "true" }), {
          headers: { "X-git-annex-data-length": "0" },
        });
      assert.deepEqual(await dataPresent(), { stored: false, plusuuids: [] });
      assert.equal(await h.present(c.key), false);
      assert.equal(await h.repo.store.tmpSize(c.key), c.data.length, "temp file left alone");
      await h.put(4, c);
      assert.deepEqual(await dataPresent(), { stored: true, plusuuids: [] });
      // Nothing there: not stored.
      const none = content("data-present none", 800);
      assert.deepEqual(
        await h.json(
          "POST",
          h.path(4, "put", { key: formatKey(none.key), "data-present": "true" }),
          {
            headers: { "X-git-annex-data-length": "0" },
          },
        ),
        { stored: false, plusuuids: [] },
      );
    });

    it("key: GET from offsets, HEAD, the unversioned path, and an absent key", async () => {
      const c = content("get me", 5000);
      await h.put(4, c);
      for (const v of [0, 1, 2, 3, 4]) {
        for (const offset of [undefined, 0, 1, 4999, 5000, 6000]) {
          const q = new URLSearchParams({ clientuuid: CLIENT });
          if (offset !== undefined) q.set("offset", String(offset));
          const r = await h.fetch("GET", `/git-annex/${h.uuid}/v${v}/key/${c.k}?${q}`);
          assert.equal(r.status, 200);
          assert.equal(r.headers["content-type"], "application/octet-stream");
          const want = c.data.subarray(Math.min(offset ?? 0, c.data.length));
          assert.equal(r.headers["x-git-annex-data-length"], String(want.length));
          assert.deepEqual(r.body, want, `v${v} offset ${offset}`);
        }
      }
      const generic = await h.fetch("GET", `/git-annex/${h.uuid}/key/${c.k}`);
      assert.equal(generic.status, 200);
      assert.deepEqual(generic.body, c.data);
      const head = await h.fetch("HEAD", `/git-annex/${h.uuid}/v4/key/${c.k}?clientuuid=${CLIENT}`);
      assert.equal(head.status, 200);
      assert.equal(head.headers["x-git-annex-data-length"], "5000");
      assert.equal(head.body.length, 0);
      const absent = content("not here", 10);
      const r = await h.fetch(
        "GET",
        `/git-annex/${h.uuid}/v4/key/${absent.k}?clientuuid=${CLIENT}`,
      );
      assert.equal(r.status, 200);
      assert.equal(r.headers["x-git-annex-data-length"], "0");
      assert.equal(r.body.length, 0);
    });

    it("remove, at every version", async () => {
      for (const v of [0, 1, 2, 3, 4]) {
        const c = content(`remove v${v}`, 400 + v);
        await h.put(4, c);
        assert.deepEqual(
          await h.remove(c.key, v),
          v >= 2 ? { removed: true, plusuuids: [] } : { removed: true },
        );
        assert.equal(await h.present(c.key), false);
        await assert.rejects(stat(h.repo.store.objectFile(c.key)));
      }
    });

    it("gettimestamp and remove-before", async () => {
      const t = (await h.json("POST", h.path(4, "gettimestamp"))) as { timestamp: number };
      assert.ok(Number.isInteger(t.timestamp) && t.timestamp >= 0);
      assert.deepEqual(Object.keys(t), ["timestamp"]);
      const c = content("remove-before", 600);
      await h.put(4, c);
      // A deadline already passed: not removed.
      assert.deepEqual(
        await h.json(
          "POST",
          h.path(4, "remove-before", { key: formatKey(c.key), timestamp: String(t.timestamp) }),
        ),
        { removed: false, plusuuids: [] },
      );
      assert.equal(await h.present(c.key), true);
      assert.deepEqual(
        await h.json(
          "POST",
          h.path(3, "remove-before", {
            key: formatKey(c.key),
            timestamp: String(t.timestamp + 600),
          }),
        ),
        { removed: true, plusuuids: [] },
      );
      assert.equal(await h.present(c.key), false);
    });

    it("lockcontent: locked with an id for present content, not for absent", async () => {
      const c = content("lockable", 300);
      await h.put(4, c);
      const l = await h.lock(c.key);
      assert.equal(l.locked, true);
      assert.match(l.lockid ?? "", /^[0-9a-f-]{36}$/);
      assert.deepEqual(await h.lock(content("unlockable", 300).key), { locked: false });
      const k = h.keepLocked(l.lockid ?? "");
      k.req.end('{"unlock":true}\n');
      const r = await k.reply;
      assert.deepEqual(JSON.parse(r.body.toString()), { locked: false });
    });

    it("keeplocked of an unknown lock answers locked false", async () => {
      const k = h.keepLocked(genUuid());
      k.req.end();
      assert.deepEqual(JSON.parse((await k.reply).body.toString()), { locked: false });
    });

    it("answers 404 for a repository it does not serve", async () => {
      const r = await h.fetch(
        "POST",
        `/git-annex/${genUuid()}/v4/gettimestamp?clientuuid=${CLIENT}`,
      );
      assert.equal(r.status, 404);
    });

    it("answers 400 for a malformed Authorization header before the repository lookup", async () => {
      for (const uuid of [h.uuid, genUuid()]) {
        const r = await h.fetch("POST", `/git-annex/${uuid}/v4/gettimestamp?clientuuid=${CLIENT}`, {
          headers: { Authorization: "Bearer x" },
        });
        assert.equal(r.status, 400);
      }
    });
  });

  describe("content locks", () => {
    const h = new Harness();
    before(() => h.start());
    after(() => h.stop());

    it("a locked key is not removed; unlock through keeplocked, then it is", async () => {
      const c = content("locked content", 700);
      await h.put(4, c);
      const l = await h.lock(c.key);
      assert.equal(l.locked, true);
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      assert.equal(await h.present(c.key), true);

      const k = h.keepLocked(l.lockid ?? "");
      k.req.write('{"unlock":false}\n');
      // Still held while the client keeps the request open.
      assert.equal(await settledWithin(k.reply, 100), "pending");
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      k.req.write('{"unlock":true}\n');
      const r = await k.reply;
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body.toString()), { locked: false });
      k.req.end();
      assert.deepEqual(await h.remove(c.key), { removed: true, plusuuids: [] });
      assert.equal(await h.present(c.key), false);
    });

    it("closing the keeplocked body without an unlock releases the lock", async () => {
      const c = content("closed body", 701);
      await h.put(4, c);
      const l = await h.lock(c.key);
      const k = h.keepLocked(l.lockid ?? "");
      k.req.write("\n");
      await sleep(50);
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      k.req.end();
      assert.deepEqual(JSON.parse((await k.reply).body.toString()), { locked: false });
      assert.deepEqual(await h.remove(c.key), { removed: true, plusuuids: [] });
    });

    it("a client that goes away during keeplocked releases the lock", async () => {
      const c = content("vanished", 702);
      await h.put(4, c);
      const l = await h.lock(c.key);
      const k = h.keepLocked(l.lockid ?? "");
      k.reply.catch(() => undefined);
      k.req.write("\n");
      await sleep(50);
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      k.req.destroy();
      await waitFor("the lock to be released", async () => {
        const r = (await h.remove(c.key)) as { removed: boolean };
        return r.removed;
      });
      assert.equal(await h.present(c.key), false);
    });

    it("two locks on one key: removal waits for both", async () => {
      const c = content("two locks", 703);
      await h.put(4, c);
      const a = await h.lock(c.key);
      const b = await h.lock(c.key);
      const ka = h.keepLocked(a.lockid ?? "");
      ka.req.end('{"unlock":true}\n');
      await ka.reply;
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      const kb = h.keepLocked(b.lockid ?? "");
      kb.req.end('{"unlock":true}\n');
      await kb.reply;
      assert.deepEqual(await h.remove(c.key), { removed: true, plusuuids: [] });
    });
  });

  describe("lock expiry", () => {
    // Long enough that a loaded machine answers the next request well
    // inside it; the tests wait for the expiry itself, not a guess of it.
    const RETENTION_MS = 3_000;
    const h = new Harness({ lockRetentionMs: RETENTION_MS });
    before(() => h.start());
    after(() => h.stop());

    it("a lock not kept expires after lockRetentionMs", async () => {
      const c = content("expiring", 800);
      await h.put(4, c);
      const locked = Date.now();
      const l = await h.lock(c.key);
      assert.equal(l.locked, true);
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      await waitFor("the lock to expire", async () => {
        const r = (await h.remove(c.key)) as { removed: boolean };
        return r.removed;
      });
      assert.ok(Date.now() - locked >= RETENTION_MS, "removed before the lock expired");
    });

    it("keeplocked holds the lock past lockRetentionMs", async () => {
      const c = content("kept", 801);
      await h.put(4, c);
      const l = await h.lock(c.key);
      const locked = Date.now();
      const k = h.keepLocked(l.lockid ?? "");
      k.req.write("\n");
      // Past the retention time (a lower bound: waiting longer changes nothing).
      await sleep(RETENTION_MS + 200 - (Date.now() - locked));
      assert.deepEqual(await h.remove(c.key), { removed: false, plusuuids: [] });
      k.req.end('{"unlock":true}\n');
      assert.deepEqual(JSON.parse((await k.reply).body.toString()), { locked: false });
      assert.deepEqual(await h.remove(c.key), { removed: true, plusuuids: [] });
    });
  });

  describe("error answers", () => {
    const h = new Harness();
    before(() => h.start());
    after(() => h.stop());

    it("a disk that fails under an upload: 500 with an id only, the error logged under it", async () => {
      const data = Buffer.from("hello");
      const key = `WORM-s${data.length}--m1+disk-failure`;
      // Where the temp files go is a plain file: the upload cannot be
      // written there (ENOTDIR), as on a disk gone bad.
      const tmp = join(h.dir, ".git", "annex", "tmp");
      await rm(tmp, { recursive: true, force: true });
      await writeFile(tmp, "not a directory");
      const r = await h.fetch("POST", h.path(4, "put", { key }), {
        headers: { "X-git-annex-data-length": String(data.length) },
        body: data,
      });
      await rm(tmp, { force: true });
      assert.equal(r.status, 500);
      const body = r.body.toString("utf8");
      const id = /^internal error \(id ([0-9a-z-]+)\)$/.exec(body)?.[1];
      assert.ok(id, `body: ${body}`);
      assert.equal(r.headers["x-request-id"], id, "the answer's id is the request's");
      assert.doesNotMatch(body, /\//, "no path in the answer");
      assert.doesNotMatch(body, /\bat\b|ENOTDIR|EEXIST/, "no stack or system error");
      const line = h.logged.find((l) => l.includes(id));
      assert.ok(line, `logged: ${h.logged.join("\n")}`);
      assert.match(line, /ENOTDIR|EEXIST/);
      // And the request's own line says how it ended.
      const request = h.logger.entries.find((e) => e.msg === "request" && e.fields.reqId === id);
      assert.equal(request?.fields.status, 500);
      assert.equal(request?.fields.endpoint, "put");
      // The server goes on.
      assert.equal((await h.fetch("POST", h.path(4, "gettimestamp"))).status, 200);
      assert.equal(h.p2p.stats().transferSlots, 0);
    });
  });

  describe("interrupted uploads", () => {
    const h = new Harness();
    before(() => h.start());
    after(() => h.stop());

    it("a put cut off mid-body stores nothing, keeps a resumable tmp file, and the server goes on", async () => {
      const c = content("interrupted", 200_000);
      const sent = 70_000;
      const sock = connect(h.port, "127.0.0.1");
      sock.on("error", () => undefined);
      await new Promise<void>((r) => sock.once("connect", () => r()));
      sock.write(
        `POST ${h.path(4, "put", { key: formatKey(c.key) })} HTTP/1.1\r\n` +
          "Host: 127.0.0.1\r\n" +
          `X-git-annex-data-length: ${c.data.length}\r\n` +
          `Content-Length: ${c.data.length}\r\n\r\n`,
      );
      sock.write(c.data.subarray(0, sent));
      await waitFor(
        "the partial upload to reach tmp",
        async () => (await h.repo.store.tmpSize(c.key)) === sent,
      );
      sock.destroy();

      // The resume point is what arrived; nothing is stored.
      await waitFor("putoffset to settle", async () => {
        const r = (await h.json("POST", h.path(4, "putoffset", { key: formatKey(c.key) }))) as {
          offset?: number;
        };
        return r.offset === sent;
      });
      assert.equal(await h.present(c.key), false);
      assert.equal(await h.repo.store.has(c.key), false);

      // The server still serves, and the upload resumes from there.
      const t = await h.fetch("POST", h.path(4, "gettimestamp"));
      assert.equal(t.status, 200);
      assert.deepEqual(await h.put(4, c, { offset: String(sent) }, c.data.subarray(sent)), {
        stored: true,
        plusuuids: [],
      });
      assert.deepEqual(await readFile(h.repo.store.objectFile(c.key)), c.data);
      assert.deepEqual(h.logged, []);
    });

    it("a put whose client stalls then vanishes frees the key for a resume", async () => {
      const c = content("stalled", 100_000);
      const sent = 10_000;
      const up = h.open("POST", h.path(4, "put", { key: formatKey(c.key) }), {
        "X-git-annex-data-length": String(c.data.length),
        "Content-Length": String(c.data.length),
      });
      up.reply.catch(() => undefined);
      up.req.write(c.data.subarray(0, sent));
      await waitFor(
        "the partial upload to reach tmp",
        async () => (await h.repo.store.tmpSize(c.key)) === sent,
      );
      up.req.destroy();
      const resumed = h.put(4, c, { offset: String(sent) }, c.data.subarray(sent));
      assert.deepEqual(await settledWithin(resumed, 3000), { stored: true, plusuuids: [] });
    });
  });

  describe("--jobs 1", () => {
    const h = new Harness({ jobs: 1 });
    before(() => h.start());
    after(() => h.stop());

    it("queues transfers behind a running one instead of failing them", async () => {
      const stored = content("already stored", 4000);
      await h.put(4, stored);
      const slow = content("slow upload", 50_000);
      const up = h.open("POST", h.path(4, "put", { key: formatKey(slow.key) }), {
        "X-git-annex-data-length": String(slow.data.length),
        "Content-Length": String(slow.data.length),
      });
      up.req.write(slow.data.subarray(0, 1000));
      await waitFor(
        "the upload to start",
        async () => (await h.repo.store.tmpSize(slow.key)) === 1000,
      );

      const get = h.fetch("GET", `/git-annex/${h.uuid}/v4/key/${stored.k}?clientuuid=${CLIENT}`);
      const put2content = content("second upload", 3000);
      const put2 = h.put(4, put2content);
      assert.equal(await settledWithin(get, 200), "pending", "GET ran alongside the upload");
      assert.equal(await settledWithin(put2, 10), "pending", "second put ran alongside");
      // Requests that move no content are not held up.
      assert.equal(await h.present(stored.key), true);

      up.req.end(slow.data.subarray(1000));
      const r = await up.reply;
      assert.deepEqual(JSON.parse(r.body.toString()), { stored: true, plusuuids: [] });
      const g = await get;
      assert.equal(g.status, 200);
      assert.deepEqual(g.body, stored.data);
      assert.deepEqual(await put2, { stored: true, plusuuids: [] });
    });

    it("many concurrent transfers all complete", async () => {
      const items = Array.from({ length: 8 }, (_, i) => content(`batch ${i}`, 2000 + i));
      const results = await Promise.all(items.map((c) => h.put(4, c)));
      for (const r of results) assert.deepEqual(r, { stored: true, plusuuids: [] });
      const gets = await Promise.all(
        items.map((c) => h.fetch("GET", `/git-annex/${h.uuid}/v4/key/${c.k}?clientuuid=${CLIENT}`)),
      );
      for (const [i, g] of gets.entries()) assert.deepEqual(g.body, items[i]?.data);
    });
  });
});
