/** S3Storage against a real S3 server on loopback (s3rver, in-process). */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { waitFor } from "../../../test/helpers/index.js";
import {
  type RunningS3Server,
  S3RVER_CREDENTIALS,
  s3RemoteFields,
  startS3Server,
} from "../../../test/helpers/s3-server.js";
import { PeerRefusedError, PeerUnreachableError } from "../peer.js";
import type { StoredObject } from "../special/storage.js";
import { MIN_PART_SIZE, MultipartSink } from "./multipart-sink.js";
import { createS3Client } from "./s3-client.js";
import { readS3Settings, type S3Settings } from "./s3-settings.js";
import { S3Storage } from "./s3-storage.js";

const KEY = "SHA256E-s11--0000000000000000000000000000000000000000000000000000000000000000";

function partStored(server: RunningS3Server, bucket: string, id: string, n: number) {
  const md5 = join(server.directory, bucket, "._S3rver_uploads", id, `${n}.md5`);
  return stat(md5).then(
    () => true,
    () => false,
  );
}

async function bytesOf(o: StoredObject): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of o.data as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** Stores `data` under `name`; answers how many parts it was uploaded in. */
async function stageWhole(storage: S3Storage, name: string, data: Buffer): Promise<number> {
  const staged = await storage.stage(name);
  // Written in socket-sized pieces, as the Peer above writes.
  for (let i = 0; i < data.length; i += 65536) {
    if (!staged.sink.write(data.subarray(i, i + 65536))) {
      await new Promise((r) => staged.sink.once("drain", r));
    }
  }
  staged.sink.end();
  await new Promise((r, j) => staged.sink.once("finish", r).once("error", j));
  await staged.publish();
  assert.ok(staged.sink instanceof MultipartSink);
  return staged.sink.parts.length;
}

describe("S3Storage", () => {
  let server: RunningS3Server;
  let admin: S3Client;
  const made: S3Storage[] = [];

  function settingsFor(bucket: string, extra: Record<string, string> = {}): S3Settings {
    return readS3Settings({
      fields: { ...s3RemoteFields(server, bucket), ...extra },
      gitConfig: {},
    });
  }

  function storageFor(bucket: string, extra: Record<string, string> = {}): S3Storage {
    const settings = settingsFor(bucket, extra);
    const s = new S3Storage(createS3Client(settings, S3RVER_CREDENTIALS), settings);
    made.push(s);
    return s;
  }

  before(async () => {
    server = await startS3Server();
    admin = createS3Client(settingsFor("b"), S3RVER_CREDENTIALS);
    for (const b of ["plain", "parts", "prefixed"]) {
      await admin.send(new CreateBucketCommand({ Bucket: b }));
    }
  });
  after(async () => {
    for (const s of made) await s.close();
    admin.destroy();
    await server.close();
  });

  it("shows an object only once it is published, then reads it from any offset", async () => {
    const storage = storageFor("plain");
    const data = Buffer.from("hello world");
    const staged = await storage.stage(KEY);
    staged.sink.end(data);
    await new Promise((r) => staged.sink.once("finish", r));
    assert.equal(await storage.has(KEY), false, "invisible before publish");
    assert.equal(await storage.read(KEY, 0), null);
    await staged.publish();
    assert.equal(await storage.has(KEY), true);
    const whole = await storage.read(KEY, 0);
    assert.ok(whole);
    assert.equal(whole.length, 11);
    assert.deepEqual(await bytesOf(whole), data);
    const tail = await storage.read(KEY, 6);
    assert.ok(tail);
    assert.equal(tail.length, 5);
    assert.equal((await bytesOf(tail)).toString(), "world");
    const atEnd = await storage.read(KEY, 11);
    assert.ok(atEnd);
    assert.equal(atEnd.length, 0);
    assert.equal(await storage.stagedLength(KEY), 0, "S3 staging never resumes");
    await storage.remove(KEY);
    assert.equal(await storage.has(KEY), false);
    await storage.remove(KEY); // absent: not an error
  });

  it("stores an empty object", async () => {
    const storage = storageFor("plain");
    await stageWhole(storage, "empty", Buffer.alloc(0));
    const o = await storage.read("empty", 0);
    assert.ok(o);
    assert.equal(o.length, 0);
    assert.equal((await bytesOf(o)).length, 0);
  });

  it("uploads in parts of partsize and the object is byte-exact", async () => {
    const storage = storageFor("parts", { partsize: "5MiB" });
    const data = randomBytes(2 * MIN_PART_SIZE + 12345);
    assert.equal(await stageWhole(storage, "big", data), 3);
    const o = await storage.read("big", 0);
    assert.ok(o);
    assert.equal(o.length, data.length);
    const got = await bytesOf(o);
    assert.equal(
      createHash("sha256").update(got).digest("hex"),
      createHash("sha256").update(data).digest("hex"),
    );
    const mid = await storage.read("big", MIN_PART_SIZE + 7);
    assert.ok(mid);
    assert.deepEqual(await bytesOf(mid), data.subarray(MIN_PART_SIZE + 7));
  });

  it("fills the next part while a part uploads, then makes the writer wait: two parts in memory at most", {
    timeout: 120_000,
  }, async () => {
    const storage = storageFor("parts", { partsize: "5MiB" });
    const data = randomBytes(3 * MIN_PART_SIZE + 1000);
    const staged = await storage.stage("slow");
    const hold = server.holdPartUploads();
    const drained = () => new Promise((r) => staged.sink.once("drain", r));
    let written = 0;
    // Write as a sender does, until the first part's upload is held.
    while (hold.held() === 0) {
      assert.ok(written < data.length, "every byte accepted, no part sent");
      const more = staged.sink.write(data.subarray(written, written + 65536));
      written += 65536;
      if (!more) {
        await Promise.race([drained(), waitFor("a part upload", async () => hold.held() > 0)]);
      }
    }
    // With the part unanswered, the sink takes the next part whole (it
    // asks the writer to wait only for its small buffer meanwhile)...
    while (written < 2 * MIN_PART_SIZE) {
      const more = staged.sink.write(data.subarray(written, written + 65536));
      written += 65536;
      if (!more && written < 2 * MIN_PART_SIZE) await drained();
    }
    // ...then no more than its small buffer.
    const chunk = () => data.subarray(written, written + 65536);
    while (staged.sink.write(chunk())) {
      written += 65536;
      assert.ok(written <= 2 * MIN_PART_SIZE + 512 * 1024, `${written} bytes accepted`);
    }
    written += 65536;
    // Now nothing may happen until the first part is answered: no drain,
    // no second part sent. Absence has no event to wait for, so this looks
    // for a while (a loaded machine can only make it miss, never fail).
    let drainedEarly = false;
    staged.sink.once("drain", () => {
      drainedEarly = true;
    });
    const lookUntil = Date.now() + 500;
    while (Date.now() < lookUntil && !drainedEarly && hold.held() === 1) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(drainedEarly, false, "the writer was let on while both parts were taken");
    assert.equal(hold.held(), 1, "a second part was sent before the first was answered");
    hold.release();
    await drained();
    for (; written < data.length; written += 65536) {
      if (!staged.sink.write(data.subarray(written, written + 65536))) {
        await new Promise((r) => staged.sink.once("drain", r));
      }
    }
    staged.sink.end();
    await new Promise((r, j) => staged.sink.once("finish", r).once("error", j));
    await staged.publish();
    const o = await storage.read("slow", 0);
    assert.ok(o);
    assert.deepEqual(await bytesOf(o), data);
  });

  it("a discarded stage leaves no object and no multipart upload", async () => {
    const storage = storageFor("parts", { partsize: "5MiB" });
    const staged = await storage.stage("discarded");
    // More than a part, so a part is uploaded before the discard.
    staged.sink.write(randomBytes(MIN_PART_SIZE + 100));
    // s3rver writes a part's MD5 once the part is stored.
    await waitFor("part 1 on the server", async () => {
      const [id] = await server.pendingUploads("parts");
      return id !== undefined && (await partStored(server, "parts", id, 1));
    });
    const pending = await admin.send(new ListMultipartUploadsCommand({ Bucket: "parts" }));
    assert.deepEqual(
      (pending.Uploads ?? []).map((u) => u.Key),
      ["discarded"],
    );
    await staged.discard();
    assert.equal(await storage.has("discarded"), false);
    const left = await admin.send(new ListMultipartUploadsCommand({ Bucket: "parts" }));
    assert.deepEqual(left.Uploads ?? [], []);
    assert.deepEqual(await server.pendingUploads("parts"), []);
  });

  it("an object smaller than a part is one PutObject, and begins no multipart upload", async () => {
    const storage = storageFor("parts", { partsize: "5MiB" });
    const staged = await storage.stage("small");
    staged.sink.end(Buffer.from("small object"));
    await new Promise((r, j) => staged.sink.once("finish", r).once("error", j));
    const pending = await admin.send(new ListMultipartUploadsCommand({ Bucket: "parts" }));
    assert.deepEqual(pending.Uploads ?? [], [], "no multipart upload begun");
    assert.equal(await storage.has("small"), false, "invisible before publish");
    await staged.publish();
    const o = await storage.read("small", 0);
    assert.equal(o && (await bytesOf(o)).toString(), "small object");
    // A discarded small object leaves nothing at all.
    const dropped = await storage.stage("dropped");
    dropped.sink.write(Buffer.from("never stored"));
    await dropped.discard();
    assert.equal(await storage.has("dropped"), false);
  });

  it("a store aborts the unfinished uploads of its object an earlier store left", async () => {
    const storage = storageFor("parts", { partsize: "5MiB" });
    const ids = async () =>
      ((await admin.send(new ListMultipartUploadsCommand({ Bucket: "parts" }))).Uploads ?? [])
        .map((u) => u.Key)
        .sort();
    // An upload left behind (as when its abort could not reach the server),
    // and one of another object, which stays: each began with its first part.
    const left = await storage.stage("again");
    const other = await storage.stage("other");
    left.sink.write(randomBytes(MIN_PART_SIZE + 1));
    other.sink.write(randomBytes(MIN_PART_SIZE + 1));
    // s3rver writes a part's MD5 once the part is stored.
    await waitFor("a first part of both on the server", async () => {
      const pending = await server.pendingUploads("parts");
      if (pending.length !== 2) return false;
      for (const id of pending) if (!(await partStored(server, "parts", id, 1))) return false;
      return true;
    });
    assert.deepEqual(await ids(), ["again", "other"]);
    await stageWhole(storage, "again", randomBytes(MIN_PART_SIZE + 10));
    assert.deepEqual(await ids(), ["other"]);
    assert.equal(await storage.has("again"), true);
    left.sink.destroy();
    await other.discard();
    assert.deepEqual(await ids(), []);
  });

  it("names objects fileprefix + key, with the remote's metadata and storage class", async () => {
    const storage = storageFor("prefixed", {
      fileprefix: "annex/",
      "x-amz-meta-project": "demo",
      storageclass: "STANDARD",
    });
    await stageWhole(storage, KEY, Buffer.from("hello world"));
    const head = await admin.send(
      new HeadObjectCommand({ Bucket: "prefixed", Key: `annex/${KEY}` }),
    );
    assert.equal(head.ContentLength, 11);
    assert.deepEqual(head.Metadata, { project: "demo" });
    assert.equal(await storage.has(KEY), true);
  });

  it("addressed by path (an export remote's files): fileprefix + path, the same metadata", async () => {
    const storage = storageFor("prefixed", { fileprefix: "exp/", "x-amz-meta-project": "demo" });
    const files = storage.byPath;
    const path = ".git/annex/objects/aeb/9e1/K/K";
    const staged = await files.stage(path, { size: 5 });
    staged.sink.end(Buffer.from("hello"));
    await new Promise((r) => staged.sink.once("finish", r));
    assert.equal(await files.has(path), false, "invisible before publish");
    await staged.publish();
    const head = await admin.send(
      new HeadObjectCommand({ Bucket: "prefixed", Key: `exp/${path}` }),
    );
    assert.deepEqual(head.Metadata, { project: "demo" });
    const got = await files.read(path, 1);
    assert.equal(got && (await bytesOf(got)).toString(), "ello");
    await files.remove(path);
    assert.equal(await files.has(path), false);
    assert.equal(await files.read("sub/absent.txt", 0), null);
  });

  it("a missing bucket is a refusal", async () => {
    const storage = storageFor("nosuchbucket");
    await assert.rejects(storage.read(KEY, 0), (e) => {
      assert.ok(e instanceof PeerRefusedError, String(e));
      assert.match(e.message, /NoSuchBucket/);
      return true;
    });
    await assert.rejects(stageWhole(storage, KEY, Buffer.from("x")), PeerRefusedError);
  });

  it("a stopped server is unreachable, and the error names no host or port", async () => {
    const own = await startS3Server();
    const settings = readS3Settings({
      fields: {
        type: "S3",
        host: own.host,
        port: String(own.port),
        requeststyle: "path",
        datacenter: "us-east-1",
        bucket: "gone",
      },
      gitConfig: {},
    });
    const storage = new S3Storage(
      createS3Client(settings, S3RVER_CREDENTIALS, { maxAttempts: 1 }),
      settings,
    );
    made.push(storage);
    await own.close();
    for (const op of [
      () => storage.has(KEY),
      () => storage.read(KEY, 0),
      () => stageWhole(storage, KEY, Buffer.from("x")),
    ]) {
      await assert.rejects(op(), (e) => {
        assert.ok(e instanceof PeerUnreachableError, String(e));
        assert.doesNotMatch(e.message, new RegExp(`127\\.0\\.0\\.1|${own.port}`));
        return true;
      });
    }
  });
});
