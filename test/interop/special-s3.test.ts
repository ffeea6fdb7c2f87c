/**
 * annexgate's S3 special remote Peer and stock git-annex's own S3 special
 * remote on the same bucket (s3rver on loopback, initialized by stock):
 * each reads what the other stored, nothing half-stored is ever visible or
 * left behind, and bad configurations are refused with clear errors.
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from "@aws-sdk/client-s3";
import { Git } from "../../src/git/index.js";
import { formatKey, type Key, parseKey } from "../../src/keys/index.js";
import { type Peer, type RemoteConnection, s3KindWith } from "../../src/peers/index.js";
import type { Remote } from "../../src/remotes/index.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  remoteLogFields,
  S3RVER_ENV,
  s3AdminClient,
  s3Remote,
  startS3Server,
} from "../helpers/s3-server.js";

const GATEWAY_UUID = "7d1c4e2a-3b5f-4a6e-9c8d-0f1e2d3c4b5a";
const MiB = 1024 * 1024;
/** The kind with an empty environment: credentials come from the gateway's cache. */
const kind = s3KindWith({});

function openS3(remote: Remote, git?: Git): Promise<RemoteConnection> {
  assert.equal(remote.transport.kind, "S3");
  return kind.open(remote, remote.transport, {
    gatewayUuid: GATEWAY_UUID,
    ...(git ? { git } : {}),
  });
}

function pieces(data: Buffer): Readable {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) out.push(data.subarray(i, i + 65536));
  return Readable.from(out);
}

/** `data`, then the sender fails, as a client that went away mid-upload. */
function failingAfter(data: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(new Error("the sender went away"));
      else this.push(data);
      sent = true;
    },
  });
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

describe("annexgate's S3 special remote and stock git-annex's, on one bucket", () => {
  let tmp: string;
  let server: RunningS3Server;
  let admin: S3Client;
  let repo: string;
  let uuid: string;
  let fields: Record<string, string>;
  let conn: RemoteConnection;
  let peer: Peer;
  const annex = (...args: string[]) => run("git", ["annex", ...args], { cwd: repo });
  const keyOf = async (file: string): Promise<Key> =>
    parseKey((await annex("lookupkey", file)).trim());

  before(requireGitAnnex);
  before(async () => {
    tmp = await makeTempDir();
    server = await startS3Server();
    admin = s3AdminClient(server);
    repo = await gitAnnexRepo(join(tmp, "gateway"), "gateway");
    // Stock caches the credentials in .git/annex/creds/<uuid>, where annexgate finds them.
    uuid = await initStockS3Remote(repo, server, "s3", "interop", ["partsize=5MiB"]);
    fields = await remoteLogFields(repo, uuid);
    conn = await openS3(s3Remote(uuid, fields), await Git.open(repo));
    peer = conn.peer;
  });
  after(async () => {
    await conn?.close();
    admin?.destroy();
    await server?.close();
    if (tmp !== undefined) await removeDir(tmp);
  });

  it("annexgate stores, stock gets and fscks from the bucket (one part and several)", async () => {
    for (const [file, size] of [
      ["small", 100 * 1024],
      ["large", 6 * MiB + 4321],
    ] as const) {
      await writeRandomFile(join(repo, file), size);
      await annex("add", file);
      const key = await keyOf(file);
      const data = await readFile(join(repo, file));
      const r = await peer.store({ key, offset: 0, length: data.length, data: pieces(data) });
      assert.equal(r.stored, true);
      // Stock checks the bucket (and records what it found), then fetches from it.
      await annex("fsck", "--from", "s3", file);
      await annex("drop", file);
      await annex("get", "--from", "s3", file);
      assert.deepEqual(await readFile(join(repo, file)), data);
    }
  });

  it("stock stores, annexgate reads from offset 0 and from the middle", async () => {
    await writeRandomFile(join(repo, "bystock"), 6 * MiB + 99);
    await annex("add", "bystock");
    const key = await keyOf("bystock");
    assert.equal((await peer.checkPresent(key)).present, false);
    await run("git", ["annex", "copy", "--to", "s3", "bystock"], { cwd: repo, env: S3RVER_ENV });
    const data = await readFile(join(repo, "bystock"));
    assert.equal((await peer.checkPresent(key)).present, true);
    for (const offset of [0, 3 * MiB + 17]) {
      const got = await peer.retrieve(key, offset);
      assert.ok(got);
      assert.equal(got.length, data.length - offset);
      assert.deepEqual(await bytesOf(got.data), data.subarray(offset));
      assert.equal(await got.valid, true);
    }
  });

  it("a store that fails or does not match leaves no object and no multipart upload", async () => {
    const content = randomBytes(6 * MiB);
    const hex = createHash("sha256").update(content).digest("hex");
    const key = parseKey(`SHA256E-s${content.length}--${hex}`);
    // The sender goes away after a whole part was sent.
    const aborted = await peer
      .store({
        key,
        offset: 0,
        length: content.length,
        data: failingAfter(content.subarray(0, 5 * MiB + 1)),
      })
      .catch(() => ({ stored: false }));
    assert.equal(aborted.stored, false);
    // Every byte sent, but not the key's content.
    const wrong = randomBytes(content.length);
    const mismatch = await peer.store({
      key,
      offset: 0,
      length: wrong.length,
      data: pieces(wrong),
    });
    assert.equal(mismatch.stored, false);
    assert.equal((await peer.checkPresent(key)).present, false);
    const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: "interop" }));
    assert.deepEqual(uploads.Uploads ?? [], []);
    await assert.rejects(
      admin.send(new HeadObjectCommand({ Bucket: "interop", Key: formatKey(key) })),
    );
    // Stock agrees: the key is not in the bucket.
    await assert.rejects(
      run("git", ["annex", "checkpresentkey", formatKey(key), "s3"], {
        cwd: repo,
        env: S3RVER_ENV,
      }),
    );
  });
});
