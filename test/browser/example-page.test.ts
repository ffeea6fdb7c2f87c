/**
 * The example upload page of `annexgate p2phttp --example-page`, opened in
 * real headless Chromium (Debian's package) against a gateway with users
 * and a cluster of two repositories and an S3 special remote on s3rver:
 * a generated file chosen in the page's file input is hashed, uploaded
 * with the client library with its progress drawn as it goes, and the page
 * then lists the nodes holding it; stock `git annex whereis` in a stock
 * clone of the gateway lists the same nodes. Once through the gateway (to
 * every node), once indirectly (the content PUT straight to the bucket,
 * whose CORS lets the gateway's page in): then the gateway's byte
 * counters show the content never passed through it. The page requests
 * nothing but the gateway (and the S3 endpoint, when indirect), logs
 * nothing to the console, and is refused to those who may not write.
 * Screenshots are kept in test-artifacts/.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PutBucketCorsCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Browser, Page } from "puppeteer-core";
import { ARTIFACTS, launchChromium, watchedTab } from "../helpers/chromium.js";
import { addNodes, gatewayRepo, initCluster } from "../helpers/cluster.js";
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

const MiB = 1024 * 1024;
const BUCKET = "annexgate-example";
const USERS = { alice: "examp1e-Secret", reader: "r3ader-Secret" } as const;
/** Upload throughput the tab is held to (bytes/s): a few MiB take about a second. */
const UPLOAD_RATE = 4 * MiB;

/** The Authorization header of a user, as browsers and git-annex write it (no + or / in these). */
function basic(user: keyof typeof USERS): string {
  const b64 = Buffer.from(`${user}:${USERS[user]}`).toString("base64");
  assert.doesNotMatch(b64, /[+/]/, "git-annex reads basic auth in base64url");
  return `Basic ${b64}`;
}

/** What the page showed of one upload. */
interface Shown {
  readonly key: string;
  /** The bytes sent, each value the progress bar took. */
  readonly progress: readonly number[];
  /** The repositories the page lists as having the file: UUID → name. */
  readonly holders: ReadonlyMap<string, string>;
  readonly missing: readonly string[];
}

/** Chooses `file` in the page's file input and waits for the page to be done with it. */
async function uploadThroughPage(tab: Page, file: string): Promise<Shown> {
  // Every value the progress bar takes, kept by the page as it changes.
  await tab.evaluate(`{
    const bar = document.getElementById("progress");
    window.seen = [];
    new MutationObserver(() => window.seen.push(Number(bar.dataset.sent))).observe(bar, {
      attributes: true,
      attributeFilter: ["data-sent"],
    });
  }`);
  const input = await tab.$("#file");
  assert.ok(input, "the page has a file input");
  await input.uploadFile(file);
  await tab.waitForFunction(
    `["done", "error"].includes(document.getElementById("app").dataset.state)`,
    { timeout: 120_000 },
  );
  const state = await tab.$eval("#app", (e) => [
    e.getAttribute("data-state"),
    e.querySelector("#status")?.textContent,
  ]);
  assert.equal(state[0], "done", `the page says: ${state[1]}`);
  const key = await tab.$eval("#key", (e) => e.textContent ?? "");
  const progress = (await tab.evaluate("window.seen")) as number[];
  const rows = await tab.$$eval("#locations li", (lis) =>
    lis.map((li) => ["uuid", "name", "present"].map((a) => li.getAttribute(`data-${a}`) ?? "")),
  );
  const holders = new Map(rows.filter((r) => r[2] === "true").map((r) => [r[0], r[1]] as const));
  const missing = rows.filter((r) => r[2] !== "true").map((r) => r[1] as string);
  return { key, progress, holders: holders as Map<string, string>, missing };
}

describe("the example upload page in headless Chromium", { timeout: 600_000 }, () => {
  let root = "";
  let s3: RunningS3Server | undefined;
  let admin: S3Client | undefined;
  let gw = "";
  let client = "";
  let server: RunningP2pHttp | undefined;
  let browser: Browser | undefined;
  let origin = "";
  const uuids = new Map<string, string>();
  const git = (cwd: string, ...a: string[]) => run("git", a, { cwd });

  async function metrics(): Promise<Sample[]> {
    const res = await fetch(`${origin}/metrics`, { headers: { authorization: basic("alice") } });
    assert.equal(res.status, 200);
    return parseMetrics(await res.text());
  }

  /** The repositories stock `whereis` in the client lists for `key`, once it has the gateway's branch: UUID → description. */
  async function whereis(key: string, expected: number): Promise<Map<string, string>> {
    return waitFor("the client to learn the locations from the gateway", async () => {
      await git(client, "fetch", "-q", "origin");
      await git(client, "annex", "merge", "-q");
      const out = await git(client, "annex", "whereis", "--json", "--key", key).catch(() => "{}");
      const listed =
        (JSON.parse(out) as { whereis?: { uuid: string; description: string }[] }).whereis ?? [];
      return listed.length >= expected ? new Map(listed.map((w) => [w.uuid, w.description])) : null;
    });
  }

  /** A tab on the page, logged in as alice, its uploads held to UPLOAD_RATE. */
  async function openPage(): Promise<ReturnType<typeof watchedTab>> {
    const watched = await watchedTab(browser as Browser);
    const { tab } = watched;
    await tab.authenticate({ username: "alice", password: USERS.alice });
    await tab.setViewport({ width: 900, height: 800 });
    await tab.goto(`${origin}/example`, { waitUntil: "load" });
    await tab.waitForFunction(`document.getElementById("app").dataset.state === "ready"`);
    await tab.emulateNetworkConditions({ download: -1, upload: UPLOAD_RATE, latency: 0 });
    return watched;
  }

  /** A generated file of `size` bytes under the test's folder: its path and SHA256E key. */
  async function generated(name: string, size: number): Promise<{ path: string; key: string }> {
    const path = join(root, name);
    await writeRandomFile(path, size);
    const hash = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
    return { path, key: `SHA256E-s${size}--${hash}.bin` };
  }

  function checkProgress(t: { diagnostic(m: string): void }, shown: Shown, size: number): void {
    const values = [...new Set(shown.progress)];
    t.diagnostic(`progress shown: ${values.join(", ")}`);
    assert.ok(
      values.some((v) => v > 0 && v < size),
      `the bar moved through values between 0 and ${size}: ${values.join(", ")}`,
    );
    assert.ok(values.length > 2, `several values: ${values.join(", ")}`);
    assert.equal(values.at(-1), size, "and ended full");
    const sorted = [...shown.progress].sort((a, b) => a - b);
    assert.deepEqual(shown.progress, sorted, "never backwards");
  }

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-example-page-");
    s3 = await startS3Server();
    admin = s3AdminClient(s3);
    for (const n of ["node1", "node2"]) await gitAnnexRepo(join(root, n), n);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    await initStockS3Remote(gw, s3, "s3node", BUCKET);
    await addNodes(gw, "mycluster", [
      { name: "node1", url: join(root, "node1") },
      { name: "node2", url: join(root, "node2") },
    ]);
    await git(gw, "config", "remote.s3node.annex-cluster-node", "mycluster");
    uuids.set("mycluster", await initCluster("annexgate", gw, "mycluster"));
    for (const n of ["node1", "node2", "s3node"]) {
      uuids.set(n, (await git(gw, "config", `remote.${n}.annex-uuid`)).trim());
    }
    server = await startAnnexgate(
      gw,
      ["--authenv-http", "--example-page", "--indirect-uploads", "--metrics"],
      {
        GIT_ANNEX_P2PHTTP_PASSWORD_alice: USERS.alice,
        GIT_ANNEX_P2PHTTP_PASSWORD_reader: USERS.reader,
        GIT_ANNEX_P2PHTTP_PERMISSIONS_reader: "readonly",
      },
    );
    origin = `http://127.0.0.1:${server.port}`;
    // The bucket lets the page's origin PUT to it (its CORS, as S3 has it).
    await admin.send(
      new PutBucketCorsCommand({
        Bucket: BUCKET,
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ["PUT"], AllowedHeaders: ["*"] }],
        },
      }),
    );
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    admin?.destroy();
    await s3?.close();
    if (root !== "") await removeDir(root);
  });

  it("is served to those who may write, with a strict policy and names only", async () => {
    const anonymous = await fetch(`${origin}/example`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    const reader = { headers: { authorization: basic("reader") } };
    assert.equal((await fetch(`${origin}/example`, reader)).status, 403);
    assert.equal((await fetch(`${origin}/example/targets.json`, reader)).status, 403);
    const alice = { headers: { authorization: basic("alice") } };
    const page = await fetch(`${origin}/example`, alice);
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.equal(/connect-src ([^;]*)/.exec(csp)?.[1], `'self' ${s3?.endpoint}`);
    const bundle = await fetch(`${origin}/example/annexgate-client.js`, alice);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(await bundle.text(), /export\s*\{[^}]*computeKey/);

    const text = await (await fetch(`${origin}/example/targets.json`, alice)).text();
    const targets = JSON.parse(text) as {
      indirect: boolean;
      targets: { kind: string; name: string; uuid: string; nodes: { name: string }[] }[];
    };
    assert.equal(targets.indirect, true);
    const cluster = targets.targets[0];
    assert.deepEqual(
      [cluster?.kind, cluster?.name, cluster?.uuid],
      ["cluster", "mycluster", uuids.get("mycluster")],
    );
    assert.deepEqual(cluster?.nodes.map((n) => n.name).sort(), ["node1", "node2", "s3node"]);
    assert.equal(text.includes(root), false, "no paths");
    assert.equal(text.includes("127.0.0.1"), false, "no hosts");
  });

  it("uploads through the gateway to every node, with progress, as whereis agrees", async (t) => {
    const { tab, problems, requests } = await openPage();
    // Not straight to the object store: the content goes through the gateway.
    await tab.click("#indirect");
    assert.equal(
      await tab.$eval("#indirect", (box) => (box as { checked?: boolean }).checked),
      false,
    );
    const before = await metrics();
    const size = 3 * MiB;
    const file = await generated("through.bin", size);
    const shown = await uploadThroughPage(tab, file.path);
    assert.equal(shown.key, file.key, "the page computed the key git-annex would");
    checkProgress(t, shown, size);
    assert.deepEqual(
      [...shown.holders.values()].sort(),
      ["node1", "node2", "s3node"],
      `every node has it (missing: ${shown.missing.join(", ")})`,
    );
    const where = await whereis(file.key, 4);
    const cluster = uuids.get("mycluster") as string;
    assert.ok(where.has(cluster), "whereis lists the cluster, as stock lists a cluster's content");
    where.delete(cluster);
    assert.deepEqual([...where.keys()].sort(), [...shown.holders.keys()].sort());
    for (const [uuid, name] of shown.holders) {
      assert.match(where.get(uuid) ?? "", new RegExp(`\\b${name}\\b`), "the same names");
    }
    const after = await metrics();
    const contentIn =
      sumOf(after, "annexgate_content_bytes_total", { direction: "in" }) -
      sumOf(before, "annexgate_content_bytes_total", { direction: "in" });
    assert.equal(contentIn, size, "the content came through the gateway");

    await mkdir(ARTIFACTS, { recursive: true });
    await tab.screenshot({ path: join(ARTIFACTS, "example-page.png") as `${string}.png` });
    assert.deepEqual(problems, []);
    const elsewhere = requests.filter((u) => !u.startsWith(`${origin}/`));
    assert.deepEqual(elsewhere, [], "the page requests only the gateway");
    assert.ok(requests.some((u) => u.startsWith(`${origin}/git-annex/${uuids.get("mycluster")}/`)));
    await tab.close();
  });

  it("uploads straight to S3 when indirect, the gateway's counters untouched", async (t) => {
    const { tab, problems, requests } = await openPage();
    assert.equal(
      await tab.$eval("#indirect", (box) => (box as { checked?: boolean }).checked),
      true,
    );
    const before = await metrics();
    const size = 4 * MiB;
    const file = await generated("indirect.bin", size);
    const shown = await uploadThroughPage(tab, file.path);
    assert.equal(shown.key, file.key);
    checkProgress(t, shown, size);
    // A cluster's indirect upload goes to its S3 node alone.
    assert.deepEqual([...shown.holders.values()], ["s3node"]);
    assert.deepEqual([...shown.missing].sort(), ["node1", "node2"]);
    const where = await whereis(file.key, 2);
    assert.deepEqual(
      [...where.keys()].sort(),
      [uuids.get("mycluster"), uuids.get("s3node")].sort(),
    );
    assert.match(where.get(uuids.get("s3node") as string) ?? "", /\bs3node\b/);

    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    assert.equal(delta("annexgate_content_bytes_total", { direction: "in" }), 0);
    assert.equal(delta("annexgate_node_bytes_total", { node: "s3node", direction: "out" }), 0);
    assert.ok(
      delta("annexgate_http_bytes_total", { direction: "in" }) < 100_000,
      "no content in the requests the gateway received",
    );
    assert.equal(
      delta("annexgate_http_requests_total", { endpoint: "upload-url", status: "200" }),
      1,
    );

    await tab.screenshot({ path: join(ARTIFACTS, "example-page-indirect.png") as `${string}.png` });
    assert.deepEqual(problems, []);
    const toS3 = requests.filter((u) => u.startsWith(`${s3?.endpoint}/${BUCKET}/`));
    assert.ok(toS3.length > 0, "the content went to the bucket");
    const elsewhere = requests.filter(
      (u) => !u.startsWith(`${origin}/`) && !u.startsWith(`${s3?.endpoint}/`),
    );
    assert.deepEqual(elsewhere, [], "the page requests only the gateway and the S3 endpoint");
    await tab.close();
  });
});
