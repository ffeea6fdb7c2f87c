/**
 * Indirect uploads (annexgate's extension) against a real S3-compatible
 * server on loopback (s3rver): a client asks `annexgate p2phttp
 * --indirect-uploads` for presigned URLs, PUTs its content straight to
 * the bucket with plain fetch, then sends the standard v4 DATA-PRESENT.
 * The gateway's own counters show the content never passed through it;
 * the location is recorded only once the staged object was checked, and
 * stock git-annex then agrees (whereis, fsck, get). Clients that lie get
 * `stored: false`, with nothing recorded and no object under the key;
 * multipart uploads, a cluster's S3 node, the fallback answers, the
 * permission a client needs and an upload left unfinished are covered,
 * and a stock `git annex copy --to` the same gateway is unaffected.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  addNodes,
  configCommand,
  gatewayRepo,
  holdsVerified,
  initCluster,
  keyOf,
  uuidOf,
} from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import { parseMetrics, type Sample, sumOf } from "../helpers/metrics.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  s3AdminClient,
  startS3Server,
} from "../helpers/s3-server.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const BUCKET = "annexgate-indirect";
const NODE_BUCKET = "annexgate-indirect-node";
const STAGING = "annexgate-indirect/";
/** S3's smallest part (but the last): the least --indirect-part-size takes. */
const PART = 5 * 1024 * 1024;
/** Two blobs of 128 bytes with the same MD5 (so the same ETag on S3), and other SHA-256s. */
const SAME_MD5 = [
  "d131dd02c5e6eec4693d9a0698aff95c2fcab58712467eab4004583eb8fb7f8955ad340609f4b30283e488832571415a085125e8f7cdc99fd91dbdf280373c5bd8823e3156348f5bae6dacd436c919c6dd53e2b487da03fd02396306d248cda0e99f33420f577ee8ce54b67080a80d1ec69821bcb6a8839396f9652b6ff72a70",
  "d131dd02c5e6eec4693d9a0698aff95c2fcab50712467eab4004583eb8fb7f8955ad340609f4b30283e4888325f1415a085125e8f7cdc99fd91dbd7280373c5bd8823e3156348f5bae6dacd436c919c6dd53e23487da03fd02396306d248cda0e99f33420f577ee8ce54b67080280d1ec69821bcb6a8839396f965ab6ff72a70",
].map((hex) => Buffer.from(hex, "hex"));
const STORED = '{"plusuuids":[],"stored":true}';
const NOT_STORED = '{"plusuuids":[],"stored":false}';

interface Answer {
  readonly status: number;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are looked into field by field
  readonly json: any;
}

async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the test looks at the text
  }
  return { status: res.status, text, json };
}

describe("indirect uploads to S3 through annexgate p2phttp", { timeout: 900_000 }, () => {
  let root = "";
  let s3: RunningS3Server | undefined;
  let admin: S3Client | undefined;
  let gw = "";
  let client = "";
  let server: RunningP2pHttp | undefined;
  /** A second gateway on the same repository: users alice and mallory, --indirect-verify size, -J 2. */
  let sized: RunningP2pHttp | undefined;
  let clientUuid = "";
  const uuids = new Map<string, string>();
  const git = (cwd: string, ...a: string[]) => run("git", a, { cwd });
  const uuid = (name: string) => uuids.get(name) as string;

  /** `POST …/annexgate/v1/upload-url`, the request written out by hand. */
  async function uploadUrl(
    target: string,
    key: string,
    o: { base?: string; method?: string; auth?: string; query?: string } = {},
  ): Promise<Answer> {
    const query = o.query ?? `key=${encodeURIComponent(key)}&clientuuid=${clientUuid}`;
    const base = o.base ?? (server as RunningP2pHttp).base;
    const res = await fetch(`${base}/${target}/annexgate/v1/upload-url?${query}`, {
      method: o.method ?? "POST",
      ...(o.auth ? { headers: { authorization: o.auth } } : {}),
    });
    return answerOf(res);
  }

  /** The standard v4 DATA-PRESENT, as a git-annex client sends it. */
  async function dataPresent(
    target: string,
    key: string,
    o: { base?: string; auth?: string } = {},
  ): Promise<Answer> {
    const size = /-s([0-9]+)-/.exec(key)?.[1] ?? "0";
    const base = o.base ?? (server as RunningP2pHttp).base;
    const q = `data-present=true&key=${encodeURIComponent(key)}&clientuuid=${clientUuid}`;
    const res = await fetch(`${base}/${target}/v4/put?${q}`, {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        "x-git-annex-data-length": size,
        ...(o.auth ? { authorization: o.auth } : {}),
      },
      body: "",
    });
    return answerOf(res);
  }

  async function putTo(url: string, body: Uint8Array): Promise<number> {
    return (await fetch(url, { method: "PUT", body })).status;
  }

  async function metrics(): Promise<Sample[]> {
    const port = (server as RunningP2pHttp).port;
    return parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  }

  async function exists(bucket: string, key: string): Promise<boolean> {
    return (admin as S3Client).send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      (e: { $metadata?: { httpStatusCode?: number } }) => {
        if (e.$metadata?.httpStatusCode === 404) return false;
        throw e;
      },
    );
  }

  async function stagings(bucket = BUCKET): Promise<string[]> {
    const listed = await (admin as S3Client).send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: STAGING }),
    );
    return (listed.Contents ?? []).map((o) => o.Key ?? "");
  }

  async function objectHash(bucket: string, key: string): Promise<string> {
    const got = await (admin as S3Client).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await got.Body?.transformToByteArray();
    return createHash("sha256")
      .update(bytes ?? new Uint8Array())
      .digest("hex");
  }

  /** The repositories stock `whereis` in `repo` lists for `key`. */
  async function whereis(repo: string, key: string): Promise<string[]> {
    const out = await git(repo, "annex", "whereis", "--json", "--key", key).catch(() => "{}");
    const listed = (JSON.parse(out) as { whereis?: { uuid: string }[] }).whereis ?? [];
    return listed.map((w) => w.uuid).sort();
  }

  function sha256(bytes: Uint8Array): string {
    return createHash("sha256").update(bytes).digest("hex");
  }

  function basic(user: string, pass: string): string {
    return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  }

  /** A new annexed file in the client: its key and content (random, or `bytes`). */
  async function newFile(
    name: string,
    size: number,
    bytes?: Uint8Array,
  ): Promise<{ key: string; bytes: Buffer }> {
    if (bytes) await writeFile(join(client, name), bytes);
    else await writeRandomFile(join(client, name), size);
    await git(client, "annex", "add", "-q", name);
    await git(client, "commit", "-q", "-m", name);
    return { key: await keyOf(client, name), bytes: await readFile(join(client, name)) };
  }

  /** Nothing of `key` on the S3 remote: no object, no staging, no upload, no record. */
  async function nothingOf(key: string): Promise<void> {
    assert.equal(await exists(BUCKET, key), false, "no object under the key");
    assert.deepEqual(await stagings(), [], "no staging left");
    assert.deepEqual(await (s3 as RunningS3Server).pendingUploads(BUCKET), [], "no upload left");
    assert.equal((await whereis(gw, key)).includes(uuid("s")), false, "nothing recorded");
  }

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-indirect-");
    s3 = await startS3Server();
    admin = s3AdminClient(s3);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    await initStockS3Remote(gw, s3, "s", BUCKET);
    await initStockS3Remote(gw, s3, "sc", "annexgate-indirect-chunked", ["chunk=1MiB"]);
    await initStockS3Remote(gw, s3, "s3n", NODE_BUCKET);
    await gitAnnexRepo(join(root, "r"), "r");
    for (const n of ["s", "sc"]) await git(gw, "config", `remote.${n}.annex-proxy`, "true");
    await addNodes(gw, "mycluster", [{ name: "r", url: join(root, "r") }]);
    await git(gw, "config", "remote.s3n.annex-cluster-node", "mycluster");
    uuids.set("cluster", await initCluster("annexgate", gw, "mycluster"));
    await configCommand("annexgate", gw, ["updateproxy"]);
    for (const n of ["s", "sc", "s3n", "r"]) {
      uuids.set(n, (await git(gw, "config", `remote.${n}.annex-uuid`)).trim());
    }
    uuids.set("gw", await uuidOf(gw));
    // The gateway reads the S3 credentials stock cached at initremote.
    server = await startAnnexgate(gw, [
      "--wideopen",
      "--metrics",
      "--indirect-uploads",
      "--indirect-part-size",
      `${PART}`,
    ]);
    sized = await startAnnexgate(
      gw,
      [
        "--authenv-http",
        "--metrics",
        "--jobs",
        "2",
        "--indirect-uploads",
        "--indirect-verify",
        "size",
      ],
      { GIT_ANNEX_P2PHTTP_PASSWORD_alice: "a", GIT_ANNEX_P2PHTTP_PASSWORD_mallory: "m" },
    );
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    clientUuid = await uuidOf(client);
  });
  after(async () => {
    await server?.stop();
    await sized?.stop();
    admin?.destroy();
    await s3?.close();
    if (root !== "") await removeDir(root);
  });

  it("the content goes straight to the bucket, and is recorded once checked", async () => {
    const { key, bytes } = await newFile("direct.dat", 50_000);
    const before = await metrics();
    const offer = await uploadUrl(uuid("s"), key);
    assert.equal(offer.status, 200, offer.text);
    assert.match(offer.text, /^\{"expires":3600,"method":"PUT","url":"[^"]+"\}$/);
    const url = offer.json.url as string;
    // A staging object of the remote's bucket, on the endpoint the remote names; never the key's.
    assert.ok(url.startsWith(`${s3?.endpoint}/${BUCKET}/${STAGING}`), url);
    assert.equal(url.includes(key.slice(0, 20)), false, url);
    assert.equal(await putTo(url, bytes), 200);
    assert.equal((await stagings()).length, 1);
    assert.equal(await exists(BUCKET, key), false, "not published before DATA-PRESENT");
    assert.equal((await whereis(gw, key)).includes(uuid("s")), false, "not recorded yet");

    const done = await dataPresent(uuid("s"), key);
    assert.deepEqual([done.status, done.text], [200, STORED]);
    assert.equal(await objectHash(BUCKET, key), createHash("sha256").update(bytes).digest("hex"));
    assert.deepEqual(await stagings(), []);
    assert.ok((await whereis(gw, key)).includes(uuid("s")), "recorded by the gateway");

    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    // No content came in from the client nor went out to the node...
    assert.equal(delta("annexgate_content_bytes_total", { direction: "in" }), 0);
    assert.equal(delta("annexgate_node_bytes_total", { node: "s", direction: "out" }), 0);
    assert.ok(delta("annexgate_http_bytes_total", { direction: "in" }) < 5_000);
    // ...and the check read the staged object back once (a SHA256E key).
    assert.equal(delta("annexgate_node_bytes_total", { node: "s", direction: "in" }), 50_000);
    assert.equal(
      sumOf(after, "annexgate_http_requests_total", { endpoint: "upload-url", status: "200" }),
      1,
    );

    // Stock git-annex in the client agrees, once it has the gateway's branch.
    await waitFor("the client to learn the location from the gateway", async () => {
      await git(client, "fetch", "-q", "origin");
      await git(client, "annex", "merge", "-q");
      return (await whereis(client, key)).includes(uuid("s"));
    });
    const fsck = await git(client, "annex", "fsck", "--json", "--from", "origin-s", "direct.dat");
    assert.equal((JSON.parse(fsck) as { success?: boolean }).success, true, fsck);
    await git(client, "annex", "drop", "-q", "--force", "direct.dat");
    await git(client, "annex", "get", "-q", "--from", "origin-s", "direct.dat");
    assert.equal(await holdsVerified(client, key), true);
    // DATA-PRESENT again: nothing pending, answered as stock answers it (the key is there).
    assert.equal((await dataPresent(uuid("s"), key)).text, STORED);
    // And the key is there already: nothing to upload.
    assert.equal((await uploadUrl(uuid("s"), key)).text, '{"alreadyhave":true,"plusuuids":[]}');
  });

  it("an MD5 key is checked by the ETag S3 computed, without reading it back", async () => {
    await writeRandomFile(join(client, "md5.dat"), 40_000);
    await git(client, "annex", "add", "-q", "--backend", "MD5E", "md5.dat");
    await git(client, "commit", "-q", "-m", "md5.dat");
    const key = await keyOf(client, "md5.dat");
    assert.match(key, /^MD5E-s40000--/);
    const bytes = await readFile(join(client, "md5.dat"));
    const wrong = Buffer.from(bytes);
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    const before = await metrics();
    // A lie: the ETag is not the key's MD5, so the object is read back, and refused.
    const lie = await uploadUrl(uuid("s"), key);
    assert.equal(await putTo(lie.json.url, wrong), 200);
    assert.equal((await dataPresent(uuid("s"), key)).text, NOT_STORED);
    await nothingOf(key);
    const middle = await metrics();
    const readBack = (a: Sample[], b: Sample[]) =>
      sumOf(b, "annexgate_node_bytes_total", { node: "s", direction: "in" }) -
      sumOf(a, "annexgate_node_bytes_total", { node: "s", direction: "in" });
    assert.equal(readBack(before, middle), 40_000);
    const offer = await uploadUrl(uuid("s"), key);
    assert.equal(await putTo(offer.json.url, bytes), 200);
    assert.equal((await dataPresent(uuid("s"), key)).text, STORED);
    assert.equal(readBack(middle, await metrics()), 0, "no read back: S3 told the MD5");
    assert.equal(await exists(BUCKET, key), true);
    const fsck = await git(gw, "annex", "fsck", "--fast", "--from", "s", "--key", key);
    assert.match(fsck, / ok$/m, fsck);
  });

  it("content larger than a part goes in parts, completed by the gateway", async () => {
    const { key, bytes } = await newFile("parts.dat", 2 * PART + 500_000);
    const offer = await uploadUrl(uuid("s"), key);
    assert.equal(offer.status, 200, offer.text);
    assert.match(offer.text, /^\{"expires":3600,"parts":\[\{"length":5242880,"offset":0,"url":"/);
    const parts = offer.json.parts as { offset: number; length: number; url: string }[];
    assert.deepEqual(
      parts.map((p) => [p.offset, p.length]),
      [
        [0, PART],
        [PART, PART],
        [2 * PART, 500_000],
      ],
    );
    // In any order: the gateway, not the client, names the parts to S3.
    for (const p of [...parts].reverse()) {
      assert.equal(await putTo(p.url, bytes.subarray(p.offset, p.offset + p.length)), 200);
    }
    assert.deepEqual([(await dataPresent(uuid("s"), key)).text], [STORED]);
    assert.equal(await objectHash(BUCKET, key), createHash("sha256").update(bytes).digest("hex"));
    assert.deepEqual(await stagings(), []);
    assert.deepEqual(await s3?.pendingUploads(BUCKET), []);
    assert.ok((await whereis(gw, key)).includes(uuid("s")));
    const fsck = await git(gw, "annex", "fsck", "--fast", "--from", "s", "--key", key);
    assert.match(fsck, / ok$/m, fsck);
  });

  it("a client that lies gets stored:false, and nothing is recorded or published", async () => {
    const small = await newFile("lie.dat", 30_000);
    const other = Buffer.from(small.bytes);
    other[100] = (other[100] ?? 0) ^ 0xff;
    const lies: [string, (url: string) => Promise<unknown>][] = [
      ["too few bytes", (url) => putTo(url, small.bytes.subarray(1))],
      ["too many bytes", (url) => putTo(url, Buffer.concat([small.bytes, Buffer.from("x")]))],
      ["other bytes of the same size", (url) => putTo(url, other)],
      ["nothing", async () => undefined],
    ];
    for (const [what, upload] of lies) {
      const offer = await uploadUrl(uuid("s"), small.key);
      assert.equal(offer.status, 200, `${what}: ${offer.text}`);
      await upload(offer.json.url);
      assert.equal((await dataPresent(uuid("s"), small.key)).text, NOT_STORED, what);
      await nothingOf(small.key);
    }

    const big = await newFile("lie-parts.dat", 2 * PART + 1_000);
    const bad = Buffer.from(big.bytes);
    bad[PART + 7] = (bad[PART + 7] ?? 0) ^ 0xff;
    type Part = { offset: number; length: number; url: string };
    const partLies: [string, (parts: Part[]) => Promise<unknown>][] = [
      ["a part missing", (ps) => Promise.all(ps.slice(1).map((p) => upload(p, big.bytes)))],
      ["a part of other bytes", (ps) => Promise.all(ps.map((p) => upload(p, bad)))],
      ["a part too short", (ps) => Promise.all(ps.map((p, i) => upload(p, big.bytes, i)))],
    ];
    async function upload(p: Part, from: Buffer, short?: number): Promise<void> {
      const end = p.offset + p.length - (short === 0 ? 1 : 0);
      assert.equal(await putTo(p.url, from.subarray(p.offset, end)), 200);
    }
    for (const [what, send] of partLies) {
      const offer = await uploadUrl(uuid("s"), big.key);
      assert.equal(offer.json.parts?.length, 3, `${what}: ${offer.text}`);
      await send(offer.json.parts);
      assert.equal((await dataPresent(uuid("s"), big.key)).text, NOT_STORED, what);
      await nothingOf(big.key);
    }

    // DATA-PRESENT with no upload asked for: not stored, as stock answers for an absent key.
    assert.equal((await dataPresent(uuid("s"), small.key)).text, NOT_STORED);
    // An honest upload of the same key afterwards is stored.
    const offer = await uploadUrl(uuid("s"), small.key);
    assert.equal(await putTo(offer.json.url, small.bytes), 200);
    assert.equal((await dataPresent(uuid("s"), small.key)).text, STORED);
    assert.equal(await exists(BUCKET, small.key), true);
  });

  it("an upload to the cluster goes to its S3 node a put would go to", async () => {
    const { key, bytes } = await newFile("cluster.dat", 20_000);
    const offer = await uploadUrl(uuid("cluster"), key);
    assert.equal(offer.status, 200, offer.text);
    assert.ok((offer.json.url as string).startsWith(`${s3?.endpoint}/${NODE_BUCKET}/${STAGING}`));
    assert.equal(await putTo(offer.json.url, bytes), 200);
    const done = await dataPresent(uuid("cluster"), key);
    assert.equal(done.text, `{"plusuuids":["${uuid("s3n")}"],"stored":true}`);
    assert.equal(await exists(NODE_BUCKET, key), true);
    const where = await whereis(gw, key);
    assert.ok(where.includes(uuid("s3n")), where.join(" "));
    assert.equal(where.includes(uuid("r")), false, "only the node that took it");
  });

  it("where there is no indirect upload, the answer says so, and why", async () => {
    const { key } = await newFile("fallback.dat", 1_000);
    const noSize = "SHA256E--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    const cases: [string, string, string][] = [
      [uuid("r"), key, "the target's storage takes no indirect uploads"],
      [uuid("sc"), key, "the remote is chunked"],
      [uuid("gw"), key, "the repository itself takes no indirect uploads"],
      [uuid("s"), noSize, "the key has no size"],
      // Content its key says nothing of (WORM, URL): it could be anything.
      [
        uuid("s"),
        "WORM-s10-m1700000000--worm.dat",
        "the gateway cannot verify content of this key",
      ],
      [
        uuid("s"),
        "URL-s10--http&c%%example.com%x",
        "the gateway cannot verify content of this key",
      ],
    ];
    for (const [target, k, reason] of cases) {
      const a = await uploadUrl(target, k);
      assert.deepEqual([a.status, a.text], [404, `{"indirect":false,"reason":"${reason}"}`]);
      assert.equal(a.text.includes(root), false);
    }
    // Not served: the API's own 404; asked wrongly: the API's answers.
    const unknown = await uploadUrl("00000000-0000-4000-8000-000000000000", key);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json, null);
    assert.equal((await uploadUrl(uuid("s"), key, { method: "GET" })).status, 405);
    assert.equal((await uploadUrl(uuid("s"), key, { query: `key=${key}` })).status, 400);
    // The stock way still works for those.
    await git(client, "annex", "copy", "-q", "--to", "origin-sc", "fallback.dat");
    assert.ok((await whereis(client, key)).includes(uuid("sc")));
  });

  it("a stock client copying to the gateway is unaffected", async () => {
    const { key } = await newFile("stock.dat", 60_000);
    const before = await metrics();
    await git(client, "annex", "copy", "-q", "--to", "origin-s", "stock.dat");
    const after = await metrics();
    // The content came through the gateway, as ever.
    const delta = (name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    assert.equal(delta("annexgate_content_bytes_total", { direction: "in" }), 60_000);
    assert.equal(delta("annexgate_node_bytes_total", { node: "s", direction: "out" }), 60_000);
    assert.equal(await exists(BUCKET, key), true);
    assert.deepEqual(await stagings(), []);
    assert.ok((await whereis(client, key)).includes(uuid("s")));
    await git(client, "annex", "fsck", "-q", "--from", "origin-s", "stock.dat");
  });

  it("only writers ask, pending uploads are bounded, and leftovers are removed", async () => {
    // A staging some earlier gateway left, long past its deadline.
    const stale = `${STAGING}1000000000-${"0".repeat(32)}`;
    await (admin as S3Client).send(
      new PutObjectCommand({ Bucket: BUCKET, Key: stale, Body: "left behind" }),
    );
    const second = await startAnnexgate(
      gw,
      [
        "--unauth-readonly",
        "--authenv-http",
        "--indirect-uploads",
        "--indirect-expires",
        "2",
        "--indirect-max-pending-per-client",
        "1",
        "--indirect-verify",
        "size",
        "--metrics",
      ],
      {
        GIT_ANNEX_P2PHTTP_PASSWORD_writer: "w",
        GIT_ANNEX_P2PHTTP_PASSWORD_reader: "r",
        GIT_ANNEX_P2PHTTP_PERMISSIONS_reader: "readonly",
      },
    );
    try {
      const base = second.base;
      const { key, bytes } = await newFile("late.dat", 10_000);
      assert.equal((await uploadUrl(uuid("s"), key, { base })).status, 401);
      const reader = basic("reader", "r");
      assert.equal((await uploadUrl(uuid("s"), key, { base, auth: reader })).status, 403);
      const auth = basic("writer", "w");
      const first = await uploadUrl(uuid("s"), key, { base, auth });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.json.expires, 2);
      // One pending upload per client here: another key waits...
      const { key: other } = await newFile("other.dat", 10);
      const busy = await uploadUrl(uuid("s"), other, { base, auth });
      assert.deepEqual(
        [busy.status, busy.text],
        [409, '{"indirect":false,"reason":"too many indirect uploads are pending"}'],
      );
      // ...but asking again for the same key starts that upload afresh.
      const offer = await uploadUrl(uuid("s"), key, { base, auth });
      assert.equal(offer.status, 200, offer.text);
      assert.notEqual(offer.json.url, first.json.url);
      assert.equal(await putTo(offer.json.url, bytes), 200);
      const staged = new URL(offer.json.url).pathname.slice(`/${BUCKET}/`.length);
      assert.ok((await stagings()).includes(staged));
      // Past its deadline (twice the URLs' life) the gateway removes the
      // staging, and the leftover is swept.
      await waitFor("the unfinished upload to be discarded", async () => {
        return (await stagings()).length === 0;
      });
      // ...and a DATA-PRESENT after that stores nothing.
      assert.equal((await dataPresent(uuid("s"), key, { base, auth })).text, NOT_STORED);
      await nothingOf(key);
      // With --indirect-verify size, a stored upload is checked without a read.
      const again = await uploadUrl(uuid("s"), other, { base, auth });
      assert.equal(await putTo(again.json.url, await readFile(join(client, "other.dat"))), 200);
      assert.equal((await dataPresent(uuid("s"), other, { base, auth })).text, STORED);
      const m = await fetch(`http://127.0.0.1:${second.port}/metrics`, {
        headers: { authorization: auth },
      });
      const samples = parseMetrics(await m.text());
      const labels = { node: "s", direction: "in" };
      assert.equal(sumOf(samples, "annexgate_node_bytes_total", labels), 0);
      assert.equal(await exists(BUCKET, other), true);
    } finally {
      await second.stop();
    }
  });

  it("a PUT to its URL during DATA-PRESENT changes nothing: what is checked is sealed", async () => {
    const [good, evil] = SAME_MD5 as [Buffer, Buffer];
    assert.notEqual(sha256(good), sha256(evil));
    const { key } = await newFile("sealed.bin", good.length, good);
    const offer = await uploadUrl(uuid("s"), key);
    assert.equal(await putTo(offer.json.url, good), 200);
    // The copy to the key's object waits until the client has PUT other
    // bytes of the same MD5 (the same ETag) to its still valid URL.
    const hold = (s3 as RunningS3Server).holdRequests(
      (req) =>
        req.method === "PUT" &&
        req.headers["x-amz-copy-source"] !== undefined &&
        (req.url ?? "").includes(key),
    );
    const done = dataPresent(uuid("s"), key);
    try {
      await waitFor("the gateway to publish the checked upload", async () => hold.held() > 0);
      assert.equal(await putTo(offer.json.url, evil), 200);
    } finally {
      hold.release();
    }
    assert.equal((await done).text, STORED);
    assert.equal(await objectHash(BUCKET, key), sha256(good), "what was checked is published");
    assert.deepEqual(await stagings(), []);
    await git(gw, "annex", "fsck", "-q", "--from", "s", "--key", key);
  });

  it("an indirect upload never overwrites what the node has", async () => {
    const base = (sized as RunningP2pHttp).base;
    const mallory = { base, auth: basic("mallory", "m") };
    const { key, bytes } = await newFile("alice.dat", 20_000);
    // Mallory asks first, of the gateway that checks sizes only...
    const offer = await uploadUrl(uuid("s"), key, mallory);
    assert.equal(offer.status, 200, offer.text);
    // ...Alice then stores the key the stock way...
    await git(client, "annex", "copy", "-q", "--to", "origin-s", "alice.dat");
    // ...and Mallory uploads other bytes of the same size and says they are there.
    assert.equal(await putTo(offer.json.url, randomBytes(bytes.length)), 200);
    assert.equal((await dataPresent(uuid("s"), key, mallory)).text, STORED);
    assert.equal(await objectHash(BUCKET, key), sha256(bytes), "Alice's object is unchanged");
    assert.deepEqual(await stagings(), []);
    await git(client, "annex", "fsck", "-q", "--from", "origin-s", "alice.dat");
  });

  it("a pending upload is its owner's: another user neither replaces nor finishes it", async () => {
    const base = (sized as RunningP2pHttp).base;
    const alice = { base, auth: basic("alice", "a") };
    const mallory = { base, auth: basic("mallory", "m") };
    const { key, bytes } = await newFile("owned.dat", 15_000);
    const offer = await uploadUrl(uuid("s"), key, alice);
    assert.equal(offer.status, 200, offer.text);
    // The same key and client UUID (both public), asked by another user.
    const taken = await uploadUrl(uuid("s"), key, mallory);
    assert.deepEqual(
      [taken.status, taken.text],
      [
        409,
        '{"indirect":false,"reason":"an indirect upload of this key is pending for another client"}',
      ],
    );
    assert.equal(await putTo(offer.json.url, bytes), 200);
    // Mallory's DATA-PRESENT is a plain one: the node does not have the key.
    assert.equal((await dataPresent(uuid("s"), key, mallory)).text, NOT_STORED);
    assert.equal(await exists(BUCKET, key), false);
    assert.equal((await dataPresent(uuid("s"), key, alice)).text, STORED);
    assert.equal(await objectHash(BUCKET, key), sha256(bytes));
  });

  it("a burst of DATA-PRESENT completions takes the --jobs slots, no more", async () => {
    const base = (sized as RunningP2pHttp).base;
    const alice = { base, auth: basic("alice", "a") };
    const keys: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      const { key, bytes } = await newFile(`burst${n}.dat`, 1_000 + n);
      const offer = await uploadUrl(uuid("s"), key, alice);
      assert.equal(await putTo(offer.json.url, bytes), 200);
      keys.push(key);
    }
    // Every S3 request of a completion about one of those keys waits.
    const hold = (s3 as RunningS3Server).holdRequests((req) =>
      keys.some((k) => (req.url ?? "").includes(k)),
    );
    const gauges = async () => {
      const m = await fetch(`http://127.0.0.1:${(sized as RunningP2pHttp).port}/metrics`, {
        headers: { authorization: alice.auth },
      });
      const samples = parseMetrics(await m.text());
      return {
        running: sumOf(samples, "annexgate_transfers_in_flight", {}),
        waiting: sumOf(samples, "annexgate_transfers_waiting", {}),
      };
    };
    const answers = keys.map((k) => dataPresent(uuid("s"), k, alice));
    try {
      await waitFor("two completions at S3 and two waiting for a slot", async () => {
        const g = await gauges();
        return g.waiting === 2 && hold.held() === 2;
      });
      assert.deepEqual(await gauges(), { running: 2, waiting: 2 });
      assert.equal(hold.held(), 2, "no more completions at S3 than slots");
    } finally {
      hold.release();
    }
    for (const a of answers) assert.equal((await a).text, STORED);
  });
});
