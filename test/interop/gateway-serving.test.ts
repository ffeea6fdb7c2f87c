/**
 * Ways of serving a gateway besides the plain one: a single remote proxied
 * with `annex-proxy` and `updateproxy` (no cluster), and a gateway served
 * among other repositories by `p2phttp --directory`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  configCommand,
  gatewayRepo,
  holdsVerified,
  keyOf,
  localCluster,
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
