/**
 * Two gateways in front of one cluster, as tips/clusters "adding additional
 * gateways" sets them up: AMS with node1 and node2, NYC (a clone) with
 * node3 and node4, each extending the cluster to the other, both served by
 * annexgate over HTTP and relaying to each other. A stock client of either
 * reaches every node; a drop removes all; BYPASS keeps requests from
 * looping; and a proxy of a proxy (AMS-NYC-node3) works.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addNodes,
  configCommand,
  gatewayRepo,
  holdsVerified,
  initCluster,
  keyOf,
} from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, run, writeRandomFile } from "../helpers/index.js";
import {
  annexHttpClone,
  type RequestLine,
  type RunningP2pHttp,
  requestLines,
  startAnnexgate,
} from "../helpers/servers.js";

const NODES = ["node1", "node2", "node3", "node4"];

/** The requests a gateway's log shows for `key`. */
function requestsFor(server: RunningP2pHttp, key: string): RequestLine[] {
  return requestLines(server.stderr()).filter((l) => l.key === key);
}

describe("two annexgate gateways in front of one cluster", { timeout: 600_000 }, () => {
  let root: string;
  let ams: string;
  let nyc: string;
  let amsServer: RunningP2pHttp;
  let nycServer: RunningP2pHttp;
  let amsClient: string;
  let nycClient: string;
  const holding = async (key: string) => {
    const out: string[] = [];
    for (const n of NODES) if (await holdsVerified(join(root, n), key)) out.push(n);
    return out;
  };
  const inRepo =
    (cwd: string) =>
    (...a: string[]) =>
      run("git", a, { cwd });

  before(async () => {
    root = await makeTempDir("annexgate-gateways-");
    for (const n of NODES) await gitAnnexRepo(join(root, n), n);
    ams = await gatewayRepo(join(root, "ams"), "AMS gateway");
    await run("git", ["clone", "-q", ams, join(root, "nyc")]);
    nyc = join(root, "nyc");
    await run("git", ["annex", "init", "-q", "NYC gateway"], { cwd: nyc });
    // Each gateway serves while it is configured: it picks up changes.
    amsServer = await startAnnexgate(ams, ["--wideopen", "--log-format", "json", "--debug"]);
    nycServer = await startAnnexgate(nyc, ["--wideopen", "--log-format", "json"]);
    const url = (s: RunningP2pHttp) => `annex+http://127.0.0.1:${s.port}/git-annex/`;
    for (const g of [ams, nyc]) {
      await inRepo(g)("config", "annex.security.allowed-ip-addresses", "all");
    }

    await addNodes(ams, "mycluster", [
      { name: "node1", url: join(root, "node1") },
      { name: "node2", url: join(root, "node2") },
    ]);
    await initCluster("annexgate", ams, "mycluster");

    // NYC: reach AMS over HTTP, learn the cluster, extend it, add its nodes.
    const nycGit = inRepo(nyc);
    await nycGit("remote", "remove", "origin");
    await nycGit("remote", "add", "AMS", ams);
    await nycGit("config", "remote.AMS.annexurl", url(amsServer));
    await nycGit("fetch", "-q", "AMS");
    await configCommand("annexgate", nyc, ["extendcluster", "AMS", "mycluster"]);
    await addNodes(nyc, "mycluster", [
      { name: "node3", url: join(root, "node3") },
      { name: "node4", url: join(root, "node4") },
    ]);
    await configCommand("annexgate", nyc, ["updatecluster"]);

    // AMS: reach NYC over HTTP and extend the cluster there too.
    const amsGit = inRepo(ams);
    await amsGit("remote", "add", "NYC", nyc);
    await amsGit("config", "remote.NYC.annexurl", url(nycServer));
    await amsGit("fetch", "-q", "NYC");
    await configCommand("annexgate", ams, ["extendcluster", "NYC", "mycluster"]);
    // NYC learns that AMS now proxies for NYC's nodes too.
    await nycGit("fetch", "-q", "AMS");
    await configCommand("annexgate", nyc, ["updatecluster"]);

    amsClient = await annexHttpClone(ams, join(root, "amsclient"), amsServer.port);
    nycClient = await annexHttpClone(nyc, join(root, "nycclient"), nycServer.port);
    await writeRandomFile(join(amsClient, "a"), 3 * 1024 * 1024);
    await writeRandomFile(join(amsClient, "c"), 1024 * 1024);
    await inRepo(amsClient)("annex", "add", "-q", "a", "c");
    await inRepo(amsClient)("commit", "-q", "-m", "a");
    await writeRandomFile(join(nycClient, "b"), 2 * 1024 * 1024);
    await inRepo(nycClient)("annex", "add", "-q", "b");
    await inRepo(nycClient)("commit", "-q", "-m", "b");
  });
  after(async () => {
    await amsServer?.stop();
    await nycServer?.stop();
    await removeDir(root);
  });

  test("an upload to AMS reaches the nodes behind both gateways, without loops", async () => {
    const key = await keyOf(amsClient, "a");
    await inRepo(amsClient)("annex", "copy", "-q", "--to", "origin-mycluster", "a");
    assert.deepEqual(await holding(key), NODES);
    const whereis = await inRepo(amsClient)("annex", "whereis", "a");
    assert.match(whereis, /\(5 copies\)/, whereis);
    // The client's one put went to AMS; AMS relayed one put to NYC; NYC
    // never relayed back.
    const puts = (s: RunningP2pHttp) => requestsFor(s, key).filter((r) => r.endpoint === "put");
    const [amsPut] = puts(amsServer);
    const [nycPut] = puts(nycServer);
    assert.equal(puts(amsServer).length, 1, amsServer.stderr());
    assert.equal(puts(nycServer).length, 1, nycServer.stderr());
    // One request id follows the upload from one gateway's log to the other's.
    assert.equal(amsPut?.upstreamId, undefined, "a stock client sends no request id");
    assert.equal(nycPut?.upstreamId, amsPut?.reqId);
    // At debug, each node call made for the upload is a line with its id.
    const stores = amsServer
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === "node call" && l.op === "store" && l.reqId === amsPut?.reqId);
    assert.ok(stores.length >= 2, `node calls of the upload: ${JSON.stringify(stores)}`);
    assert.ok(stores.every((l) => l.outcome === "ok"));
  });

  test("an upload to NYC reaches them too", async () => {
    const key = await keyOf(nycClient, "b");
    await inRepo(nycClient)("annex", "copy", "-q", "--to", "origin-mycluster", "b");
    assert.deepEqual(await holding(key), NODES);
  });

  test("a drop through either gateway removes every copy", async () => {
    const key = await keyOf(amsClient, "a");
    await inRepo(amsClient)("annex", "drop", "-q", "--from", "origin-mycluster", "a");
    assert.deepEqual(await holding(key), []);
  });

  test("a proxy of a proxy: AMS-NYC-node3 through AMS", async () => {
    const remotes = await inRepo(amsClient)("annex", "info", "origin");
    assert.match(remotes, /origin-NYC-node3/, remotes);
    const key = await keyOf(amsClient, "c");
    await inRepo(amsClient)("annex", "copy", "-q", "--to", "origin-NYC-node3", "c");
    assert.deepEqual(await holding(key), ["node3"]);
    await inRepo(amsClient)("annex", "drop", "-q", "--from", "origin-NYC-node3", "c");
    assert.deepEqual(await holding(key), []);
  });
});
