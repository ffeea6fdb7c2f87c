/**
 * Opening an S3 special remote that annexgate cannot or must not serve:
 * each is refused with a clear reason (git-annex's words where it has
 * some) that names no host, port or path of this machine. Buckets and
 * credentials are made by stock git-annex on a loopback S3 server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { Git } from "../../src/git/index.js";
import { parseKey } from "../../src/keys/index.js";
import {
  PeerUnreachableError,
  type RemoteConnection,
  s3KindWith,
  UnreachableRemoteError,
} from "../../src/peers/index.js";
import type { Remote } from "../../src/remotes/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex } from "../helpers/index.js";
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
const KEY = parseKey(
  "SHA256E-s3--ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
);

function open(
  remote: Remote,
  opts: { env?: Record<string, string>; git?: Git } = {},
): Promise<RemoteConnection> {
  assert.equal(remote.transport.kind, "S3");
  return s3KindWith(opts.env ?? {}).open(remote, remote.transport, {
    gatewayUuid: GATEWAY_UUID,
    ...(opts.git ? { git: opts.git } : {}),
  });
}

/** Asserts that opening is refused with a reason matching `reason`, naming no host or port. */
async function refused(
  opening: Promise<RemoteConnection>,
  reason: RegExp,
  server: RunningS3Server,
): Promise<void> {
  await assert.rejects(opening, (e) => {
    assert.ok(e instanceof UnreachableRemoteError, String(e));
    assert.match(e.message, /^cannot reach remote s3: /);
    assert.match(e.message, reason);
    assert.doesNotMatch(e.message, new RegExp(`127\\.0\\.0\\.1|:${server.port}\\b`));
    return true;
  });
}

describe("S3 special remotes annexgate refuses to open", () => {
  let tmp: string;
  let server: RunningS3Server;
  let admin: S3Client;
  let repo: string;
  let uuid: string;
  let fields: Record<string, string>;
  let git: Git;

  before(requireGitAnnex);
  before(async () => {
    tmp = await makeTempDir();
    server = await startS3Server();
    admin = s3AdminClient(server);
    repo = await gitAnnexRepo(join(tmp, "gateway"), "gateway");
    uuid = await initStockS3Remote(repo, server, "s3", "refusals");
    fields = await remoteLogFields(repo, uuid);
    git = await Git.open(repo);
  });
  after(async () => {
    admin?.destroy();
    await server?.close();
    if (tmp !== undefined) await removeDir(tmp);
  });

  it("opens the remote as stock configured it (the control)", async () => {
    const conn = await open(s3Remote(uuid, fields), { git });
    assert.equal((await conn.peer.checkPresent(KEY)).present, false);
    await conn.close();
  });

  it("a bucket that does not exist", async () => {
    await refused(
      open(s3Remote(uuid, { ...fields, bucket: "nosuchbucket" }), { git }),
      /S3 bucket nosuchbucket does not exist/,
      server,
    );
  });

  it("a bucket whose annex-uuid names another remote, or that has none", async () => {
    const other = "0b2e4d6f-1a3c-4e5f-8b7d-9c0a1b2c3d4e";
    await refused(
      open(s3Remote(other, fields), { env: S3RVER_ENV }),
      /its annex-uuid file indicates it is used by a different special remote/,
      server,
    );
    await admin.send(new CreateBucketCommand({ Bucket: "nouuid" }));
    await refused(
      open(s3Remote(uuid, { ...fields, bucket: "nouuid" }), { git }),
      /has no annex-uuid object/,
      server,
    );
  });

  it("no credentials in the environment, the gateway's cache or remote.log", async () => {
    const bare = await Git.open(await gitAnnexRepo(join(tmp, "nocreds"), "nocreds"));
    await refused(
      open(s3Remote(uuid, fields), { git: bare }),
      /No S3 credentials configured: Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to use S3/,
      server,
    );
  });

  it("credentials the server does not accept", async () => {
    // s3rver 3.7.1 checks the access key of a v4 signature, not the
    // signature itself: an unknown key is what it can refuse.
    await refused(
      open(s3Remote(uuid, fields), {
        env: { AWS_ACCESS_KEY_ID: "NOSUCHKEY", AWS_SECRET_ACCESS_KEY: "S3RVER" },
      }),
      /S3 GetObject of annex-uuid failed: 403 InvalidAccessKeyId/,
      server,
    );
  });

  it("credentials embedded in remote.log (embedcreds=yes) are used", async () => {
    const embedded = await initStockS3Remote(repo, server, "s3embedded", "embedded", [
      "embedcreds=yes",
    ]);
    const f = await remoteLogFields(repo, embedded);
    assert.ok(f.s3creds, "stock embedded the credentials");
    const bare = await Git.open(await gitAnnexRepo(join(tmp, "embedded"), "embedded"));
    const conn = await open(s3Remote(embedded, f), { git: bare });
    assert.equal((await conn.peer.checkPresent(KEY)).present, false);
    await conn.close();
  });

  it("legacy-chunked, encrypted and misconfigured remotes; chunk= without a chunk log", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ chunksize: "1MiB" }, /legacy chunksize= chunking are not supported \(chunk= is\)/],
      [{ chunk: "1MiB" }, /needs the gateway's git-annex branch for its chunk log/],
      // What the gateway's gpg keyring lacks is open-encryption.test.ts's; here, what no keyring helps.
      [{ encryption: "hybrid", cipher: "eA==" }, /encryption=hybrid but no gpg key ids/],
      [{ encryption: "sharedpubkey" }, /encryption=sharedpubkey but no usable cipher/],
      [{ versioning: "yes" }, /versioned S3 remotes \(versioning=yes\) are not supported yet/],
      [{ requeststyle: "virtual" }, /bad S3 requeststyle value: virtual/],
    ];
    for (const [extra, reason] of cases) {
      await refused(open(s3Remote(uuid, { ...fields, ...extra }), { git }), reason, server);
    }
  });

  it("a stopped server: refused at open, and an open peer's requests fail as unreachable", async () => {
    const own = await startS3Server();
    const u = await initStockS3Remote(repo, own, "s3stopped", "stopped");
    const f = await remoteLogFields(repo, u);
    const conn = await open(s3Remote(u, f), { git });
    await own.close();
    await assert.rejects(conn.peer.checkPresent(KEY), (e) => {
      assert.ok(e instanceof PeerUnreachableError, String(e));
      assert.match(e.message, /no answer from the S3 server/);
      assert.doesNotMatch(e.message, new RegExp(`127\\.0\\.0\\.1|:${own.port}\\b`));
      return true;
    });
    await conn.close();
    await refused(open(s3Remote(u, f), { git }), /no answer from the S3 server/, own);
  });
});
