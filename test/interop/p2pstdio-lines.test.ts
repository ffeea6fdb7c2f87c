/**
 * Stock git-annex is the judge of the line protocol's grammar and framing:
 * annexgate's MessageChannel drives a real `git-annex-shell p2pstdio` in a
 * real repository. Everything the stock server says must parse, and
 * everything annexgate formats must be understood (never answered with
 * ERROR), in every protocol version, with DATA payloads full of newlines.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { parseKey } from "../../src/keys/index.js";
import {
  DataLengthError,
  type Message,
  MessageChannel,
  negotiateVersion,
} from "../../src/protocol/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";

const ENV = {
  LC_ALL: "C.UTF-8",
  GIT_AUTHOR_NAME: "annexgate test",
  GIT_AUTHOR_EMAIL: "test@annexgate.invalid",
  GIT_COMMITTER_NAME: "annexgate test",
  GIT_COMMITTER_EMAIL: "test@annexgate.invalid",
};
const CLIENT = "11111111-2222-3333-4444-555555555555";
const TIMEOUT = { timeout: 60_000 };

/* Content with newlines, CRs and protocol-looking text in it. */
const CONTENT = Buffer.concat([
  Buffer.from("line one\nDATA 5\nVALID\r\n\n", "utf8"),
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)),
]);

function sha256Key(bytes: Buffer, ext: string): string {
  return `SHA256E-s${bytes.length}--${createHash("sha256").update(bytes).digest("hex")}${ext}`;
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

interface Session {
  readonly ch: MessageChannel;
  readonly child: ChildProcessWithoutNullStreams;
  /** Next message, which must not be an ERROR about something annexgate sent. */
  next(): Promise<Message | null>;
  close(): Promise<void>;
}

describe("the line protocol against stock git-annex-shell p2pstdio", () => {
  let dir: string;
  let repo: string;
  let serverUuid: string;
  let presentKey: string;

  before(async () => {
    dir = await makeTempDir("annexgate-p2pstdio-");
    repo = await gitAnnexRepo(join(dir, "repo"), "server");
    await writeFile(join(repo, "present file.bin"), CONTENT);
    await run("git", ["annex", "add", "-q", "present file.bin"], { cwd: repo, env: ENV });
    await run("git", ["commit", "-q", "-m", "add"], { cwd: repo, env: ENV });
    presentKey = (
      await run("git", ["annex", "lookupkey", "present file.bin"], { cwd: repo })
    ).trim();
    serverUuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
  }, TIMEOUT);

  after(async () => {
    await removeDir(dir);
  });

  async function open(version: number | null): Promise<Session> {
    const child = spawn("git-annex-shell", ["p2pstdio", repo, CLIENT], {
      env: { ...process.env, ...ENV },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stderr: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    const ch = new MessageChannel(child.stdout, child.stdin);
    const next = async () => {
      const m = await ch.receive();
      if (m?.type === "ERROR") {
        assert.fail(
          `git-annex-shell answered ERROR ${m.message}; stderr: ${Buffer.concat(stderr)}`,
        );
      }
      return m;
    };
    // git-annex-shell has authenticated the client already (by ssh) and says so first.
    assert.deepEqual(await next(), { type: "AUTH-SUCCESS", uuid: serverUuid });
    if (version !== null) {
      await ch.send({ type: "VERSION", version });
      assert.deepEqual(await next(), { type: "VERSION", version: negotiateVersion(version) });
    }
    const close = async () => {
      const exited = new Promise((resolve) => child.once("close", resolve));
      await ch.close();
      await exited;
    };
    return { ch, child, next, close };
  }

  it("negotiates versions as annexgate's negotiateVersion does", TIMEOUT, async () => {
    for (const v of [0, 1, 2, 3, 4, 5, 99]) {
      const s = await open(v);
      await s.close();
    }
  });

  it(
    "a whole session at version 4: every request annexgate formats is understood",
    TIMEOUT,
    async () => {
      const s = await open(4);
      const { ch, next } = s;
      const key = parseKey(presentKey);
      const absent = parseKey("WORM-s3-m1700000000--not here.txt");

      await ch.send({ type: "BYPASS", uuids: ["ac000000-0000-8000-0000-000000000001"] });
      await ch.send({ type: "CHECKPRESENT", key });
      assert.deepEqual(await next(), { type: "SUCCESS" });
      await ch.send({ type: "CHECKPRESENT", key: absent });
      assert.deepEqual(await next(), { type: "FAILURE" });

      await ch.send({ type: "GETTIMESTAMP" });
      const ts = await next();
      assert.ok(ts?.type === "TIMESTAMP", JSON.stringify(ts));

      // GET: DATA n, exactly n bytes (newlines and all), then VALID.
      await ch.send({ type: "GET", offset: 0, associatedFile: "present file.bin", key });
      assert.deepEqual(await next(), { type: "DATA", length: CONTENT.length });
      assert.deepEqual(await collect(ch.receiveData(CONTENT.length)), CONTENT);
      assert.deepEqual(await next(), { type: "VALID" });
      await ch.send({ type: "SUCCESS" });

      // GET from an offset: the rest of the content.
      await ch.send({ type: "GET", offset: 9, associatedFile: null, key });
      assert.deepEqual(await next(), { type: "DATA", length: CONTENT.length - 9 });
      assert.deepEqual(await collect(ch.receiveData(CONTENT.length - 9)), CONTENT.subarray(9));
      assert.deepEqual(await next(), { type: "VALID" });
      await ch.send({ type: "SUCCESS" });

      // PUT of new content, with an associated file that needs escaping.
      const payload = Buffer.concat([CONTENT, Buffer.from("\nmore\n")]);
      const newKey = parseKey(sha256Key(payload, ".bin"));
      await ch.send({ type: "PUT", associatedFile: "sub dir/new 50%.bin", key: newKey });
      assert.deepEqual(await next(), { type: "PUT-FROM", offset: 0 });
      await ch.sendData(
        payload.length,
        Readable.from([payload.subarray(0, 7), payload.subarray(7)]),
      );
      await ch.send({ type: "VALID" });
      assert.deepEqual(await next(), { type: "SUCCESS" });
      await ch.send({ type: "PUT", associatedFile: null, key: newKey });
      assert.deepEqual(await next(), { type: "ALREADY-HAVE" });

      // Locking, then removal before a time in the future.
      await ch.send({ type: "LOCKCONTENT", key: newKey });
      assert.deepEqual(await next(), { type: "SUCCESS" });
      await ch.send({ type: "UNLOCKCONTENT" });
      await ch.send({ type: "REMOVE-BEFORE", timestamp: ts.timestamp + 600, key: newKey });
      assert.deepEqual(await next(), { type: "SUCCESS" });
      await ch.send({ type: "CHECKPRESENT", key: newKey });
      assert.deepEqual(await next(), { type: "FAILURE" });
      await ch.send({ type: "REMOVE", key: absent });
      assert.deepEqual(await next(), { type: "SUCCESS" });
      await s.close();
    },
  );

  it("version 0 sends no VALID after DATA; version 1 does", TIMEOUT, async () => {
    for (const version of [null, 1]) {
      const s = await open(version);
      await s.ch.send({ type: "GET", offset: 0, associatedFile: null, key: parseKey(presentKey) });
      assert.deepEqual(await s.next(), { type: "DATA", length: CONTENT.length });
      assert.deepEqual(await collect(s.ch.receiveData(CONTENT.length)), CONTENT);
      if (version !== null) assert.deepEqual(await s.next(), { type: "VALID" });
      await s.ch.send({ type: "SUCCESS" });
      // The next answer is to the next request: nothing was left in between.
      await s.ch.send({ type: "CHECKPRESENT", key: parseKey(presentKey) });
      assert.deepEqual(await s.next(), { type: "SUCCESS" });
      await s.close();
    }
  });

  it("its ERROR replies to bad lines parse, and the session goes on", TIMEOUT, async () => {
    const s = await open(4);
    for (const bad of ["BOGUS", "CHECKPRESENT", "GET x y z", "VERSION"]) {
      s.child.stdin.write(`${bad}\n`);
      const reply = await s.ch.receive();
      assert.equal(reply?.type, "ERROR", bad);
    }
    await s.ch.send({ type: "CHECKPRESENT", key: parseKey(presentKey) });
    assert.deepEqual(await s.next(), { type: "SUCCESS" });
    await s.close();
  });

  it(
    "a DATA payload cut short by hanging up stores nothing; the next PUT resumes",
    TIMEOUT,
    async () => {
      const payload = Buffer.alloc(200_000, "resume me\n");
      const key = parseKey(sha256Key(payload, ".txt"));
      const s = await open(4);
      await s.ch.send({ type: "PUT", associatedFile: "r.txt", key });
      assert.deepEqual(await s.next(), { type: "PUT-FROM", offset: 0 });
      const SENT = 100_000;
      await assert.rejects(
        s.ch.sendData(payload.length, Readable.from([payload.subarray(0, SENT)])),
        (e: unknown) => e instanceof DataLengthError && e.data.reason === "short",
      );
      await s.close();

      const t = await open(4);
      await t.ch.send({ type: "CHECKPRESENT", key });
      assert.deepEqual(await t.next(), { type: "FAILURE" });
      await t.ch.send({ type: "PUT", associatedFile: "r.txt", key });
      const from = await t.next();
      assert.ok(from?.type === "PUT-FROM", JSON.stringify(from));
      // Every byte that did arrive was kept (in git-annex's temp file), not stored as the object.
      assert.equal(from.offset, SENT);
      const rest = payload.subarray(from.offset);
      await t.ch.sendData(rest.length, Readable.from([rest]));
      await t.ch.send({ type: "VALID" });
      assert.deepEqual(await t.next(), { type: "SUCCESS" });
      await t.ch.send({ type: "CHECKPRESENT", key });
      assert.deepEqual(await t.next(), { type: "SUCCESS" });
      await t.close();
    },
  );
});
