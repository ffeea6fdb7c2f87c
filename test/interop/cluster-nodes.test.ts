/**
 * A cluster whose nodes are reached three ways: a repository on the
 * gateway's machine, a repository behind stock git-annex-shell over ssh,
 * and a repository served by stock `git annex p2phttp` (which stock
 * git-annex cannot proxy to). A stock client uploads through annexgate;
 * then one node is killed in the middle of a fan-out, and the client's
 * answer and both location logs must name exactly the nodes that hold a
 * verified copy.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addNodes,
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
  run,
  tmpBytes,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import {
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
  startStockP2pHttp,
} from "../helpers/servers.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const NODES = ["node1", "node2", "node3"];

describe("a cluster of a local, an ssh and a p2phttp node behind annexgate", {
  timeout: 600_000,
}, () => {
  let root: string;
  let gw: string;
  let client: string;
  let sshd: TestSshd;
  let stockNode: RunningP2pHttp;
  let server: RunningP2pHttp;
  const git = (...a: string[]) => run("git", a, { cwd: client });
  const holding = async (key: string) => {
    const out: string[] = [];
    for (const n of NODES) if (await holdsVerified(join(root, n), key)) out.push(n);
    return out;
  };

  before(async () => {
    root = await makeTempDir("annexgate-cluster-nodes-");
    for (const n of NODES) await gitAnnexRepo(join(root, n), n);
    sshd = await startSshd("stock");
    stockNode = await startStockP2pHttp(join(root, "node3"), ["--wideopen"]);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    await addNodes(gw, "mycluster", [
      { name: "node1", url: join(root, "node1") },
      {
        name: "node2",
        url: `${sshd.host}:${join(root, "node2")}`,
        uuid: await uuidOf(join(root, "node2")),
      },
      {
        name: "node3",
        url: join(root, "node3"),
        annexUrl: `annex+http://127.0.0.1:${stockNode.port}/git-annex/`,
        uuid: await uuidOf(join(root, "node3")),
      },
    ]);
    await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: gw });
    await initCluster("annexgate", gw, "mycluster", sshd.clientEnv());
    // The gateway reaches node2 through the test's ssh wrapper.
    server = await startAnnexgate(gw, ["--wideopen"], { ...process.env, ...sshd.clientEnv() });
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    await writeRandomFile(join(client, "small"), 2 * 1024 * 1024);
    await writeRandomFile(join(client, "big"), 256 * 1024 * 1024);
    await git("annex", "add", "-q", "small", "big");
    await git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await server?.stop();
    await stockNode?.stop();
    await sshd?.stop();
    await removeDir(root);
  });

  test("an upload lands on all three nodes; get and drop go through them", async () => {
    const key = await keyOf(client, "small");
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "small");
    assert.deepEqual(await holding(key), NODES);
    await git("annex", "drop", "-q", "small");
    await git("annex", "get", "-q", "--from", "origin-mycluster", "small");
    assert.equal(await holdsVerified(client, key), true);
    await git("annex", "drop", "-q", "--from", "origin-mycluster", "small");
    assert.deepEqual(await holding(key), []);
  });

  test("a node killed mid-upload: the answer and the logs name exactly the nodes holding it", async () => {
    const key = await keyOf(client, "big");
    const node2 = join(root, "node2");
    const copy = spawn("git", ["annex", "copy", "--to", "origin-mycluster", "big"], {
      cwd: client,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    copy.stdout.on("data", (d) => {
      output += d;
    });
    copy.stderr.on("data", (d) => {
      output += d;
    });
    const exited = new Promise<number>((r) => copy.once("exit", (code) => r(code ?? -1)));
    // Wait (bounded) until node2 has part of the content, then kill its
    // git-annex-shell and the ssh carrying it.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await tmpBytes(node2)) < 16 * 1024 * 1024) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok((await tmpBytes(node2)) > 0, "node2 received part of the upload");
    await run("pkill", ["-KILL", "-f", `p2pstdio.*${node2}`]).catch(() => "");
    assert.equal(await exited, 0, output);

    const holders = await holding(key);
    assert.deepEqual(holders, ["node1", "node3"]);
    const whereis = await git("annex", "whereis", "big");
    assert.ok(whereis.includes("origin-node1") && whereis.includes("origin-node3"), whereis);
    assert.ok(!whereis.includes("origin-node2"), whereis);
    // The gateway commits its branch within a second of a change: wait
    // (bounded) until it names the nodes that stored the content.
    const stored = [await uuidOf(join(root, "node1")), await uuidOf(join(root, "node3"))];
    const logged = await waitFor("the gateway's branch to name node1 and node3", async () => {
      const out = await run("git", ["annex", "whereis", "--key", key], { cwd: gw });
      return stored.every((u) => out.includes(u)) && out;
    });
    assert.ok(!logged.includes(await uuidOf(node2)), logged);

    // The node that missed it can be given it afterwards, through the proxy.
    await git("annex", "copy", "-q", "--to", "origin-node2", "big");
    assert.deepEqual(await holding(key), NODES);
  });
});
