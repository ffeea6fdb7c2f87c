/**
 * Where a cluster puts content, decided by preferred content the same way
 * stock git-annex decides it: with `balanced=` over the nodes, annexgate's
 * fan-out places every file on exactly the node stock git-annex's own
 * `copy --auto` picks; and with `sizebalanced=` and maxsize, eight uploads
 * at once into nodes with room for four never take a node past its
 * maxsize, and the ones that cannot fit fail cleanly.
 */
import assert from "node:assert/strict";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { holdsVerified, keyOf, localCluster, waitForGatewayMerge } from "../helpers/cluster.js";
import { makeTempDir, removeDir, run, writeRandomFile } from "../helpers/index.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
} from "../helpers/servers.js";

/** Bytes of annexed objects a repository holds. */
async function objectBytes(repo: string): Promise<number> {
  const dir = join(repo, ".git", "annex", "objects");
  let total = 0;
  for (const f of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
    const s = await stat(join(dir, f)).catch(() => null);
    if (s?.isFile()) total += s.size;
  }
  return total;
}

interface Setup {
  root: string;
  gw: string;
  /** The UUID of cluster "mycluster". */
  cluster: string;
  client: string;
  server: RunningP2pHttp;
  nodes: string[];
  git: (...a: string[]) => Promise<string>;
  /** The nodes holding a verified copy of `file`'s key. */
  holding(file: string): Promise<string[]>;
}

async function setup(prefix: string, nodes: string[]): Promise<Setup> {
  const root = await makeTempDir(prefix);
  const { gw, cluster } = await localCluster(root, nodes, "annexgate");
  const server = await startAnnexgate(gw, ["--wideopen"]);
  const client = await annexHttpClone(gw, join(root, "client"), server.port);
  const git = (...a: string[]) => run("git", a, { cwd: client });
  return {
    root,
    gw,
    cluster,
    client,
    server,
    nodes,
    git,
    holding: async (file) => {
      const key = await keyOf(client, file);
      const out: string[] = [];
      for (const n of nodes) if (await holdsVerified(join(root, n), key)) out.push(n);
      return out;
    },
  };
}

/** Configure preferred content from the client and push it as `git annex sync` would. */
async function configure(s: Setup, commands: string[][]): Promise<void> {
  for (const c of commands) await s.git("annex", ...c);
  const since = s.server.stderr().length;
  await s.git("push", "-q", "origin", "git-annex:synced/git-annex");
  await waitForGatewayMerge(s.gw, s.server, s.cluster, since);
}

describe("balanced placement: annexgate's fan-out and stock git-annex agree", {
  timeout: 600_000,
}, () => {
  let s: Setup;
  const files = Array.from({ length: 12 }, (_, i) => `file${i}.dat`);

  before(async () => {
    s = await setup("annexgate-placement-", ["node1", "node2", "node3", "node4"]);
    await configure(s, [
      ...s.nodes.map((n) => ["group", `origin-${n}`, "nodes"]),
      ["groupwanted", "nodes", "balanced=nodes"],
      ...s.nodes.map((n) => ["wanted", `origin-${n}`, "groupwanted"]),
    ]);
    for (const f of files) await writeRandomFile(join(s.client, f), 20_000);
    await s.git("annex", "add", "-q", ...files);
    await s.git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await s?.server.stop();
    if (s) await removeDir(s.root);
  });

  test("each file lands on the one node stock copy --auto picks", async () => {
    // Stock git-annex decides, node by node, through the proxied remotes.
    for (const n of s.nodes) await s.git("annex", "copy", "-q", "--auto", "--to", `origin-${n}`);
    const byStock = new Map<string, string[]>();
    for (const f of files) byStock.set(f, await s.holding(f));
    for (const [f, where] of byStock) assert.equal(where.length, 1, `${f} on ${where.join(",")}`);
    // Spread over the nodes, not all on one.
    assert.ok(new Set([...byStock.values()].flat()).size > 1, JSON.stringify([...byStock]));

    for (const n of s.nodes) await s.git("annex", "drop", "-q", "--from", `origin-${n}`, ...files);
    for (const f of files) assert.deepEqual(await s.holding(f), [], f);

    // annexgate decides, for the whole cluster at once.
    await s.git("annex", "copy", "-q", "--to", "origin-mycluster", ...files);
    for (const f of files) assert.deepEqual(await s.holding(f), byStock.get(f), f);
  });
});

describe("sizebalanced with maxsize: concurrent uploads never overfill a node", {
  timeout: 600_000,
}, () => {
  let s: Setup;
  const size = 100_000;
  const files = Array.from({ length: 8 }, (_, i) => `big${i}.dat`);

  before(async () => {
    s = await setup("annexgate-space-", ["node1", "node2"]);
    // Room for two of the files on each node: four in all.
    const room = String(2 * size + size / 2);
    await configure(s, [
      ...s.nodes.map((n) => ["group", `origin-${n}`, "nodes"]),
      ["groupwanted", "nodes", "sizebalanced=nodes"],
      ...s.nodes.map((n) => ["wanted", `origin-${n}`, "groupwanted"]),
      ...s.nodes.map((n) => ["maxsize", `origin-${n}`, room]),
    ]);
    for (const f of files) await writeRandomFile(join(s.client, f), size);
    await s.git("annex", "add", "-q", ...files);
    await s.git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await s?.server.stop();
    if (s) await removeDir(s.root);
  });

  test("8 uploads at once into room for 4: 4 land, 4 fail, no node past its maxsize", async () => {
    const out = await s.git("annex", "copy", "-J8", "--to", "origin-mycluster", ...files).then(
      () => "all succeeded",
      (e: Error) => e.message,
    );
    const landed: string[] = [];
    for (const f of files) {
      const where = await s.holding(f);
      assert.ok(where.length <= 1, `${f} on ${where.join(",")}`);
      if (where.length === 1) landed.push(f);
    }
    assert.equal(landed.length, 4, out);
    assert.match(out, /copy: 4 failed/);
    for (const n of s.nodes) {
      const bytes = await objectBytes(join(s.root, n));
      assert.ok(bytes <= 2 * size + size / 2, `${n} holds ${bytes} bytes`);
      assert.equal(bytes, 2 * size, `${n} holds two files`);
    }
    // What the client believes agrees: the files that failed are not in the cluster.
    const inCluster = (await s.git("annex", "find", "--in", "origin-mycluster")).trim().split("\n");
    assert.deepEqual(inCluster.sort(), landed.sort());
  });
});

describe("two clusters behind one gateway", { timeout: 600_000 }, () => {
  let s: Setup;

  before(async () => {
    s = await setup("annexgate-two-clusters-", ["node1", "node2", "node3"]);
    // node3 leaves "mycluster" for a second cluster, "archive".
    await run("git", ["config", "remote.node3.annex-cluster-node", "archive"], { cwd: s.gw });
    await run(process.execPath, [ANNEXGATE_BIN, "initcluster", "archive"], { cwd: s.gw });
    await run(process.execPath, [ANNEXGATE_BIN, "updatecluster"], { cwd: s.gw });
    await s.git("fetch", "-q", "origin");
    for (const f of ["a.dat", "b.dat"]) await writeRandomFile(join(s.client, f), 30_000);
    await s.git("annex", "add", "-q", "a.dat", "b.dat");
    await s.git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await s?.server.stop();
    if (s) await removeDir(s.root);
  });

  test("each cluster is its own remote, with its own nodes", async () => {
    const info = await s.git("annex", "info", "origin");
    assert.match(info, /gateway to cluster: .*origin-archive/, info);
    assert.match(info, /gateway to cluster: .*origin-mycluster|origin-mycluster/, info);
    await s.git("annex", "copy", "-q", "--to", "origin-mycluster", "a.dat");
    await s.git("annex", "copy", "-q", "--to", "origin-archive", "b.dat");
    assert.deepEqual(await s.holding("a.dat"), ["node1", "node2"]);
    assert.deepEqual(await s.holding("b.dat"), ["node3"]);
  });
});

describe("an unstable preferred content expression on a node", { timeout: 600_000 }, () => {
  let s: Setup;

  before(async () => {
    s = await setup("annexgate-unstable-", ["node1", "node2"]);
    // "not present" would make content flow back and forth: git-annex
    // treats it as matching nothing, and so does the gateway.
    await configure(s, [
      ["wanted", "origin-node1", "not present"],
      ["wanted", "origin-node2", "anything"],
    ]);
    await writeRandomFile(join(s.client, "u.dat"), 30_000);
    await s.git("annex", "add", "-q", "u.dat");
    await s.git("commit", "-q", "-m", "u");
  });
  after(async () => {
    await s?.server.stop();
    if (s) await removeDir(s.root);
  });

  test("matches nothing, and the gateway's log says why", async () => {
    await s.git("annex", "copy", "-q", "--to", "origin-mycluster", "u.dat");
    assert.deepEqual(await s.holding("u.dat"), ["node2"]);
    assert.match(s.server.stderr(), /preferred content of \S+ is unstable and matches nothing/);
  });
});
