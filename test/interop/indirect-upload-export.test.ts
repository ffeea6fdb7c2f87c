/**
 * Indirect uploads to an S3 export remote (`exporttree=yes
 * annexobjects=yes`), against s3rver: the content goes straight to the
 * bucket, to the key's annexobjects copy under the fileprefix, where
 * stock git-annex stores and looks for a key sent to such a remote; a
 * stock clone enabling the same remote gets it and fscks it. An export
 * remote without annexobjects is not proxied, and gets no URL.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { configCommand, gatewayRepo, holdsVerified, keyOf, uuidOf } from "../helpers/cluster.js";
import {
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import { parseMetrics, sumOf } from "../helpers/metrics.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  S3RVER_ENV,
  s3AdminClient,
  startS3Server,
} from "../helpers/s3-server.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const BUCKET = "annexgate-indirect-export";
const PREFIX = "pre/";

describe("indirect uploads to an S3 export remote with annexobjects", { timeout: 300_000 }, () => {
  let root = "";
  let s3: RunningS3Server | undefined;
  let admin: S3Client | undefined;
  let server: RunningP2pHttp | undefined;
  let gw = "";
  let client = "";
  let clientUuid = "";
  const git = (cwd: string, ...a: string[]) => run("git", a, { cwd, env: S3RVER_ENV });
  const remoteUuid = async (name: string) =>
    (await git(gw, "config", `remote.${name}.annex-uuid`)).trim();

  async function uploadUrl(target: string, key: string): Promise<Response> {
    const q = `key=${encodeURIComponent(key)}&clientuuid=${clientUuid}`;
    const base = (server as RunningP2pHttp).base;
    return fetch(`${base}/${target}/annexgate/v1/upload-url?${q}`, { method: "POST" });
  }

  async function contentIn(): Promise<number> {
    const port = (server as RunningP2pHttp).port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return sumOf(parseMetrics(text), "annexgate_content_bytes_total", { direction: "in" });
  }

  async function exists(objectKey: string): Promise<boolean> {
    const head = new HeadObjectCommand({ Bucket: BUCKET, Key: objectKey });
    return (admin as S3Client).send(head).then(
      () => true,
      (e: { $metadata?: { httpStatusCode?: number } }) => {
        if (e.$metadata?.httpStatusCode === 404) return false;
        throw e;
      },
    );
  }

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-indirect-export-");
    s3 = await startS3Server();
    admin = s3AdminClient(s3);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    const exportFields = ["exporttree=yes", `fileprefix=${PREFIX}`];
    await initStockS3Remote(gw, s3, "se", BUCKET, [...exportFields, "annexobjects=yes"]);
    await initStockS3Remote(gw, s3, "sx", "annexgate-indirect-export-plain", exportFields);
    for (const n of ["se", "sx"]) await git(gw, "config", `remote.${n}.annex-proxy`, "true");
    await configCommand("annexgate", gw, ["updateproxy"]);
    server = await startAnnexgate(gw, ["--wideopen", "--metrics", "--indirect-uploads"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    clientUuid = await uuidOf(client);
  });
  after(async () => {
    await server?.stop();
    admin?.destroy();
    await s3?.close();
    if (root !== "") await removeDir(root);
  });

  it("stores the key's annexobjects copy, which stock git-annex gets", async () => {
    await writeRandomFile(join(client, "e.dat"), 30_000);
    await git(client, "annex", "add", "-q", "e.dat");
    await git(client, "commit", "-q", "-m", "e.dat");
    const key = await keyOf(client, "e.dat");
    const se = await remoteUuid("se");
    const inBefore = await contentIn();

    const offer = await uploadUrl(se, key);
    const url = ((await offer.json()) as { url: string }).url;
    assert.equal(offer.status, 200);
    assert.ok(url.includes(`/${BUCKET}/${PREFIX}.git/annexgate-indirect/`), url);
    const put = await fetch(url, { method: "PUT", body: await readFile(join(client, "e.dat")) });
    assert.equal(put.status, 200);
    const res = await fetch(
      `${server?.base}/${se}/v4/put?data-present=true&key=${encodeURIComponent(key)}&clientuuid=${clientUuid}`,
      { method: "POST", headers: { "x-git-annex-data-length": "30000" }, body: "" },
    );
    assert.deepEqual([res.status, await res.text()], [200, '{"plusuuids":[],"stored":true}']);
    assert.equal((await contentIn()) - inBefore, 0, "nothing passed through the gateway");

    // The name stock gives the key's annexobjects copy (Annex/Locations.hs).
    const fmt = `--format=.git/annex/objects/\${hashdirlower}\${key}/\${key}`;
    const name = (await git(client, "annex", "examinekey", fmt, key)).trim();
    assert.equal(await exists(`${PREFIX}${name}`), true, name);

    // The location is recorded (the gateway's branch says so); stock,
    // enabling the same remote directly in the clone, finds it there.
    await waitFor("the client to learn the location from the gateway", async () => {
      await git(client, "fetch", "-q", "origin");
      await git(client, "annex", "merge", "-q");
      return (await git(client, "annex", "whereis", "--json", "--key", key)).includes(se);
    });
    await git(client, "config", "annex.security.allowed-ip-addresses", "all");
    await git(client, "annex", "enableremote", "se");
    const fsck = await git(client, "annex", "fsck", "--json", "--from", "se", "e.dat");
    assert.equal((JSON.parse(fsck) as { success?: boolean }).success, true, fsck);
    await git(client, "annex", "drop", "-q", "--force", "e.dat");
    await git(client, "annex", "get", "-q", "--from", "se", "e.dat");
    assert.equal(await holdsVerified(client, key), true);
  });

  it("an export remote without annexobjects gets a 404, no URL", async () => {
    // Neither stock nor annexgate proxies it (updateproxy warns and skips
    // it): the API's own 404. The reason indirectRefusal gives is unit-tested.
    const res = await uploadUrl(await remoteUuid("sx"), `SHA256E-s1--${"0".repeat(64)}`);
    const text = await res.text();
    assert.equal(res.status, 404);
    assert.equal(text.includes("url"), false, text);
  });
});
