/**
 * The dashboard of `annexgate p2phttp --dashboard`, opened in real headless
 * Chromium (Debian's package) against a gateway with a cluster of two
 * local nodes and one node served over p2phttp by another process: it
 * must show each node's used bytes as the gateway counts them, follow an
 * upload's progress live, show the node that was stopped as failing,
 * refuse a visitor without the API's password, log nothing to the
 * console, and fetch nothing but what the gateway serves. A screenshot is
 * kept in test-artifacts/.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "puppeteer-core";
import { ARTIFACTS, launchChromium, watchedTab } from "../helpers/chromium.js";
import { clusterWithHttpNode } from "../helpers/cluster.js";
import { makeTempDir, removeDir, run, writeRandomFile } from "../helpers/index.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
} from "../helpers/servers.js";

const MiB = 1024 * 1024;
const PASSWORD = "dashb0ard-Secret";
const NODES = ["node1", "node2", "node3"];

/** Waits (bounded) until `expression`, run in the page, is true. */
async function until(page: Page, expression: string): Promise<void> {
  await page.waitForFunction(expression, { timeout: 60_000 });
}

/** The data-* value of each node's row, by node name. */
function rows(page: Page, attr: string): Promise<Record<string, string>> {
  return page.$$eval(
    "tr[data-node]",
    (trs, a) =>
      Object.fromEntries(
        trs.map((tr) => [
          tr.querySelector("td.name")?.firstChild?.textContent ?? "",
          tr.getAttribute(a as string) ?? "",
        ]),
      ),
    attr,
  );
}

describe("the dashboard in headless Chromium", { timeout: 300_000 }, () => {
  let root: string;
  let gw: string;
  let cluster: string;
  let node3: RunningP2pHttp;
  let server: RunningP2pHttp;
  let browser: Browser;
  let origin: string;
  const auth = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}`;

  before(async () => {
    root = await makeTempDir("annexgate-dashboard-");
    ({ gw, cluster, node3 } = await clusterWithHttpNode(root));
    // A maxsize on each node (node3's nearly reached), drawn as a bar against it.
    for (const [node, size] of [
      ["node1", "64MiB"],
      ["node2", "64MiB"],
      ["node3", "20MiB"],
    ]) {
      await run(process.execPath, [ANNEXGATE_BIN, "maxsize", node as string, size as string], {
        cwd: gw,
      });
    }
    // Three MiB on every node before the page opens, put there through a
    // gateway without users.
    const open = await startAnnexgate(gw, ["--wideopen"]);
    try {
      const client = await annexHttpClone(gw, join(root, "client"), open.port);
      await writeRandomFile(join(client, "one"), MiB);
      await writeRandomFile(join(client, "two"), 2 * MiB);
      await run("git", ["annex", "add", "-q", "one", "two"], { cwd: client });
      await run("git", ["commit", "-q", "-m", "files"], { cwd: client });
      await run("git", ["annex", "copy", "-q", "--to", "origin-mycluster", "one", "two"], {
        cwd: client,
      });
    } finally {
      await open.stop();
    }
    server = await startAnnexgate(gw, ["--authenv-http", "--dashboard"], {
      GIT_ANNEX_P2PHTTP_PASSWORD_alice: PASSWORD,
    });
    origin = `http://127.0.0.1:${server.port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await node3?.stop();
    await removeDir(root);
  });

  it("is refused to a visitor without the API's password", async () => {
    const r = await fetch(`${origin}/dashboard`);
    assert.equal(r.status, 401);
    assert.equal((await fetch(`${origin}/dashboard/events`)).status, 401);
    const ok = await fetch(`${origin}/dashboard`, { headers: { authorization: auth } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  });

  it("shows the nodes, an upload's progress live, and a stopped node failing", async () => {
    const { tab, problems, requests } = await watchedTab(browser);
    await tab.authenticate({ username: "alice", password: PASSWORD });
    await tab.setViewport({ width: 1280, height: 900 });
    await tab.goto(`${origin}/dashboard?interval=200`, { waitUntil: "load" });

    // The used bytes the gateway counts: 3 MiB on each node.
    await until(
      tab,
      `[...document.querySelectorAll("tr[data-node]")].filter((tr) => tr.dataset.bytes === "${3 * MiB}").length === 3`,
    );
    assert.deepEqual(Object.keys(await rows(tab, "data-bytes")).sort(), NODES);

    // An upload sent in steps by this test: the page follows it.
    const data = randomBytes(16 * MiB);
    const key = `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}`;
    const put = request({
      host: "127.0.0.1",
      port: server.port,
      method: "POST",
      path: `/git-annex/${cluster}/v4/put?key=${key}&clientuuid=00000000-1111-2222-3333-444444444444`,
      headers: {
        authorization: auth,
        "Content-Length": String(data.length),
        "X-git-annex-data-length": String(data.length),
      },
    });
    const answered = new Promise<string>((resolveAnswer, reject) => {
      put.on("response", (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolveAnswer(body));
      });
      put.on("error", reject);
    });
    const progressAtLeast = (bytes: number) =>
      until(
        tab,
        `Number(document.querySelector("tr[data-transfer]")?.dataset.bytes ?? -1) >= ${bytes}`,
      );
    const seen: number[] = [];
    for (const [from, to] of [
      [0, 4 * MiB],
      [4 * MiB, 10 * MiB],
    ] as const) {
      put.write(data.subarray(from, to));
      await progressAtLeast(to - MiB);
      seen.push(
        Number(await tab.$eval("tr[data-transfer]", (tr) => tr.getAttribute("data-bytes"))),
      );
    }
    assert.ok((seen[1] ?? 0) > (seen[0] ?? 0), `progress advanced: ${seen.join(" then ")}`);
    put.end(data.subarray(10 * MiB));
    assert.match(await answered, /"stored":true/);
    await until(tab, `document.querySelector("tr[data-transfer]") === null`);

    // node3 stops: the page says it is failing (its probe is kept 10 s).
    node3.child.kill("SIGKILL");
    await until(
      tab,
      `document.querySelector("tr[data-state='failing'] td.name")?.firstChild?.textContent === "node3"`,
    );
    const states = await rows(tab, "data-state");
    assert.deepEqual(states, { node1: "ok", node2: "ok", node3: "failing" });
    const bars = await tab.$$eval("tr[data-node] .bar .fill", (fills) => fills.length);
    assert.equal(bars, 3, "each node's use drawn against its maxsize");

    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "dashboard.png");
    await tab.screenshot({ path: shot as `${string}.png`, fullPage: true });
    assert.ok((await stat(shot)).size > 10_000);

    assert.deepEqual(problems, []);
    const elsewhere = requests.filter((u) => !u.startsWith(`${origin}/dashboard`));
    assert.deepEqual(elsewhere, [], "the page fetches only what the gateway serves");
    await tab.close();
  });
});
