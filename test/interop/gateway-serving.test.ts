/**
 * Ways of serving a gateway besides the plain one: a single remote proxied
 * with `annex-proxy` and `updateproxy` (no cluster), a gateway served
 * among other repositories by `p2phttp --directory`, and a cluster node
 * behind a p2phttp server that wants a password, which the gateway takes
 * from its git credential helpers as git-annex does.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addNodes,
  configCommand,
  gatewayRepo,
  holdsVerified,
  initCluster,
  keyOf,
  localCluster,
  uuidOf,
} from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, run, writeRandomFile } from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

describe("a remote proxied with annex-proxy and updateproxy", { timeout: 600_000 }, () => {
  let root: string;
  let server: RunningP2pHttp;
  let client: string;
  const git = (...a: string[]) => run("git", a, { cwd: client });

  before(async () => {
    root = await makeTempDir("annexgate-proxy-one-");
    await gitAnnexRepo(join(root, "solo"), "solo");
    const gw = await gatewayRepo(join(root, "gw"), "gateway");
    await run("git", ["remote", "add", "solo", join(root, "solo")], { cwd: gw });
    await run("git", ["config", "remote.solo.annex-proxy", "true"], { cwd: gw });
    const out = await configCommand("annexgate", gw, ["updateproxy"]);
    assert.match(out, /Started proxying for solo/);
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    await writeRandomFile(join(client, "f"), 200_000);
    await git("annex", "add", "-q", "f");
    await git("commit", "-q", "-m", "f");
  });
  after(async () => {
    await server?.stop();
    await removeDir(root);
  });

  test("copy, get and drop through the proxy reach the remote", async () => {
    const info = await git("annex", "info", "origin");
    assert.match(info, /proxying: origin-solo/, info);
    const key = await keyOf(client, "f");
    await git("annex", "copy", "-q", "--to", "origin-solo", "f");
    assert.equal(await holdsVerified(join(root, "solo"), key), true);
    await git("annex", "drop", "-q", "f");
    await git("annex", "get", "-q", "--from", "origin-solo", "f");
    assert.equal(await holdsVerified(client, key), true);
    await git("annex", "drop", "-q", "--from", "origin-solo", "f");
    assert.equal(await holdsVerified(join(root, "solo"), key), false);
  });
});

describe("a gateway served by p2phttp --directory", { timeout: 600_000 }, () => {
  let root: string;
  let server: RunningP2pHttp;
  let client: string;
  const git = (...a: string[]) => run("git", a, { cwd: client });

  before(async () => {
    root = await makeTempDir("annexgate-directory-gw-");
    const served = join(root, "served");
    const { gw } = await localCluster(served, ["node1", "node2"], "annexgate");
    server = await startAnnexgate(root, ["--wideopen", "--directory", served]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    await writeRandomFile(join(client, "f"), 100_000);
    await git("annex", "add", "-q", "f");
    await git("commit", "-q", "-m", "f");
  });
  after(async () => {
    await server?.stop();
    await removeDir(root);
  });

  test("its cluster and nodes are served next to the repositories themselves", async () => {
    const key = await keyOf(client, "f");
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "f");
    for (const n of ["node1", "node2"]) {
      assert.equal(await holdsVerified(join(root, "served", n), key), true, n);
    }
    await git("annex", "drop", "-q", "--from", "origin-mycluster", "f");
    for (const n of ["node1", "node2"]) {
      assert.equal(await holdsVerified(join(root, "served", n), key), false, n);
    }
  });
});

describe("a cluster node behind a p2phttp server with passwords", { timeout: 600_000 }, () => {
  let root: string;
  let gw: string;
  let node: RunningP2pHttp;
  let server: RunningP2pHttp;
  let client: string;
  const git = (...a: string[]) => run("git", a, { cwd: client });

  before(async () => {
    root = await makeTempDir("annexgate-authed-node-");
    await gitAnnexRepo(join(root, "local"), "local");
    await gitAnnexRepo(join(root, "locked"), "locked");
    node = await startAnnexgate(join(root, "locked"), ["--authenv-http"], {
      GIT_ANNEX_P2PHTTP_PASSWORD_gateway: "sekrit",
    });
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    await addNodes(gw, "mycluster", [
      { name: "local", url: join(root, "local") },
      {
        name: "locked",
        url: join(root, "locked"),
        annexUrl: `annex+http://127.0.0.1:${node.port}/git-annex/`,
        uuid: await uuidOf(join(root, "locked")),
      },
    ]);
    await initCluster("annexgate", gw, "mycluster");
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    for (const f of ["without", "with"]) await writeRandomFile(join(client, f), 50_000);
    await git("annex", "add", "-q", "without", "with");
    await git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await server?.stop();
    await node?.stop();
    await removeDir(root);
  });

  test("without a credential the node refuses and is left out; with one it is used", async () => {
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "without");
    const without = await keyOf(client, "without");
    assert.equal(await holdsVerified(join(root, "local"), without), true);
    assert.equal(await holdsVerified(join(root, "locked"), without), false);

    const store = join(root, "credentials");
    await writeFile(store, `annex+http://gateway:sekrit@127.0.0.1:${node.port}/git-annex\n`, {
      mode: 0o600,
    });
    await run("git", ["config", "credential.helper", `store --file=${store}`], { cwd: gw });
    // A fresh gateway process asks the helper when it first reaches the node.
    await server.stop();
    server = await startAnnexgate(gw, ["--wideopen"]);
    await git(
      "config",
      "remote.origin.annexUrl",
      `annex+http://127.0.0.1:${server.port}/git-annex/`,
    );
    await git("annex", "copy", "-q", "--to", "origin-mycluster", "with");
    const withKey = await keyOf(client, "with");
    for (const n of ["local", "locked"]) {
      assert.equal(await holdsVerified(join(root, n), withKey), true, n);
    }
  });
});
