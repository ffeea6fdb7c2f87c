/**
 * Stock git-annex clients using a cluster served by annexgate, over HTTP
 * and over ssh, as tips/clusters describes it: uploads land on every node,
 * whereis counts the nodes (not the cluster), get and drop work through
 * the cluster, git-annex's own testremote passes on the cluster, a proxied
 * node and the gateway; and afterwards the gateway's own branch agrees
 * with what is on the nodes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  holdsVerified,
  keyOf,
  localCluster,
  uuidOf,
  waitForGatewayMerge,
} from "../helpers/cluster.js";
import { makeTempDir, removeDir, run, waitFor, writeRandomFile } from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

const NODES = ["node1", "node2", "node3"];

/** The nodes (by name) whose repository holds a verified copy of `key`. */
async function nodesHolding(root: string, key: string, names = NODES): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) if (await holdsVerified(join(root, n), key)) out.push(n);
  return out;
}

/** `whereis` of one file: the copy count and the remote names listed. */
async function whereis(client: string, file: string, env?: Record<string, string>) {
  const out = await run("git", ["annex", "whereis", file], {
    cwd: client,
    ...(env ? { env } : {}),
  });
  const copies = Number(/\((\d+) cop(?:y|ies)\)/.exec(out)?.[1]);
  // Each line is "UUID -- DESCRIPTION [NAME]", or "UUID -- NAME" for a
  // repository without a description.
  const names = out
    .split("\n")
    .map((l) => /-- (?:.*\[([^\]]+)\]|(\S+))\s*$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => (m[1] ?? m[2]) as string);
  return { copies, names, out };
}

describe("a cluster of three local nodes behind annexgate p2phttp, used by a stock client", {
  timeout: 600_000,
}, () => {
  let root: string;
  let gw: string;
  let cluster: string;
  let client: string;
  let server: RunningP2pHttp;
  const git = (...a: string[]) => run("git", a, { cwd: client });

  before(async () => {
    root = await makeTempDir("annexgate-cluster-http-");
    ({ gw, cluster } = await localCluster(root, NODES, "stock"));
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    await writeRandomFile(join(client, "small"), 100_000);
    await writeRandomFile(join(client, "big"), 6 * 1024 * 1024);
    await git("annex", "add", "-q", "small", "big");
    await git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await server?.stop();
    await removeDir(root);
  });

  test("copy --to the cluster lands a verified copy on every node", async () => {
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "small", "big");
    for (const f of ["small", "big"]) {
      assert.deepEqual(await nodesHolding(root, await keyOf(client, f)), NODES, f);
    }
  });

  test("whereis lists the cluster and each node, and counts only the nodes", async () => {
    const w = await whereis(client, "big");
    assert.equal(w.copies, 4, w.out); // three nodes and here
    for (const name of [
      "origin-mycluster",
      "origin-node1",
      "origin-node2",
      "origin-node3",
      "here",
    ]) {
      assert.ok(w.names.includes(name), `${name} in ${w.out}`);
    }
  });

  test("get --from the cluster after dropping here", async () => {
    await git("annex", "drop", "-q", "big");
    assert.equal(await holdsVerified(client, await keyOf(client, "big")), false);
    await git("annex", "get", "-q", "--from", "origin-mycluster", "big");
    assert.equal(await holdsVerified(client, await keyOf(client, "big")), true);
  });

  test("the gateway's branch, committed while serving, agrees with the nodes", async () => {
    const key = await keyOf(client, "big");
    const nodeUuids = await Promise.all(NODES.map((n) => uuidOf(join(root, n))));
    // The server commits its branch within a second of a change: wait
    // (bounded) until what it committed names every node.
    const where = await waitFor("the gateway's branch to name every node", async () => {
      const out = await run("git", ["annex", "whereis", "--key", key], { cwd: gw });
      return nodeUuids.every((u) => out.includes(u)) && out;
    });
    for (const u of nodeUuids) assert.ok(where.includes(u), `${u} in ${where}`);
    for (const n of NODES) {
      await run("git", ["annex", "fsck", "-q", "--from", n, "--key", key], { cwd: gw });
    }
  });

  test("drop --from the cluster removes every copy on disk", async () => {
    const key = await keyOf(client, "small");
    await git("annex", "drop", "-q", "--from", "origin-mycluster", "small");
    assert.deepEqual(await nodesHolding(root, key), []);
    const w = await whereis(client, "small");
    assert.equal(w.copies, 1, w.out);
  });

  test("with preferred content set, an upload goes to exactly the nodes that want it", async () => {
    // Set from the client, pushed as `git annex sync` pushes: the gateway
    // merges it while serving.
    await git("annex", "wanted", "origin-node1", "include=*.keep");
    await git("annex", "wanted", "origin-node2", "include=*.keep");
    await git("annex", "wanted", "origin-node3", "exclude=*.keep");
    const since = server.stderr().length;
    await git("push", "-q", "origin", "git-annex:synced/git-annex");
    await waitForGatewayMerge(gw, server, cluster, since);
    await writeRandomFile(join(client, "x.keep"), 50_000);
    await writeRandomFile(join(client, "y.other"), 50_000);
    await git("annex", "add", "-q", "x.keep", "y.other");
    await git("commit", "-q", "-m", "wanted");
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "x.keep", "y.other");
    assert.deepEqual(await nodesHolding(root, await keyOf(client, "x.keep")), ["node1", "node2"]);
    assert.deepEqual(await nodesHolding(root, await keyOf(client, "y.other")), ["node3"]);
    // And a stock client's own view agrees: node3 does not want x.keep.
    const wanted = await git("annex", "find", "--want-get-by", "origin-node3", "x.keep", "y.other");
    assert.deepEqual(wanted.trim().split("\n"), ["y.other"]);
  });

  test("testremote passes on the cluster, on a proxied node and on the gateway", async () => {
    for (const remote of ["origin-mycluster", "origin-node2", "origin"]) {
      const out = await git("annex", "testremote", remote);
      assert.match(out, /All \d+ tests passed/, `${remote}: ${out.slice(-500)}`);
    }
  });
});

describe("the same kind of cluster reached by a stock client over ssh", {
  timeout: 600_000,
}, () => {
  let root: string;
  let gw: string;
  let client: string;
  let sshd: TestSshd;
  let env: Record<string, string>;
  const git = (...a: string[]) => run("git", a, { cwd: client, env });

  before(async () => {
    root = await makeTempDir("annexgate-cluster-ssh-");
    // Configured with annexgate's own commands this time.
    ({ gw } = await localCluster(root, NODES, "annexgate"));
    sshd = await startSshd("annexgate");
    env = sshd.clientEnv();
    client = join(root, "client");
    await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client], { env });
    for (const [k, v] of clientGitConfig) await git("config", k, v);
    await git("annex", "init", "-q", "client");
    await writeRandomFile(join(client, "f"), 3 * 1024 * 1024);
    await git("annex", "add", "-q", "f");
    await git("commit", "-q", "-m", "f");
  });
  after(async () => {
    await sshd?.stop();
    await removeDir(root);
  });

  test("copy, whereis, get and drop through the cluster, and testremote on it", async () => {
    const key = await keyOf(client, "f");
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "f");
    assert.deepEqual(await nodesHolding(root, key), NODES);
    const w = await whereis(client, "f", env);
    assert.equal(w.copies, 4, w.out);
    assert.ok(w.names.includes("origin-mycluster"), w.out);
    await git("annex", "drop", "-q", "f");
    await git("annex", "get", "-q", "--from", "origin-mycluster", "f");
    assert.equal(await holdsVerified(client, key), true);
    await git("annex", "drop", "-q", "--from", "origin-mycluster", "f");
    assert.deepEqual(await nodesHolding(root, key), []);
    const logins = await sshd.logins();
    assert.ok(
      logins.some((l) => l.includes("--uuid")),
      `the client asked the gateway for a proxied UUID: ${logins.join("\n")}`,
    );
    for (const remote of ["origin-mycluster", "origin-node1", "origin"]) {
      const out = await git("annex", "testremote", "--fast", remote);
      assert.match(out, /All \d+ tests passed/, `${remote}: ${out.slice(-500)}`);
    }
  });
});
