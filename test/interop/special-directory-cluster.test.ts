/**
 * A directory special remote as a cluster node beside a git repository
 * node, behind `annexgate p2phttp`: a stock client's upload to the
 * cluster reaches both nodes (the directory's copy readable by stock
 * git-annex enabling the remote directly), a download comes from the
 * directory when it is the only node holding the key, and a drop from
 * the cluster removes the object from the directory too.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DirectoryStorage } from "../../src/peers/index.js";
import { gatewayRepo, holdsVerified, initCluster, keyOf } from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

describe("a directory special remote as a cluster node", { timeout: 600_000 }, () => {
  let root = "";
  let gw = "";
  let node = "";
  let d = "";
  let client = "";
  let server: RunningP2pHttp | undefined;
  const git = (cwd: string, ...a: string[]) => run("git", a, { cwd });
  /** What the directory holds, read as annexgate reads it. */
  const inDirectory = (key: string) => new DirectoryStorage(d).has(key);

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-specialdir-cluster-");
    node = await gitAnnexRepo(join(root, "node1"), "node1");
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    d = join(root, "d");
    await mkdir(d);
    await git(
      gw,
      "annex",
      "initremote",
      "dn",
      "type=directory",
      `directory=${d}`,
      "encryption=none",
    );
    await git(gw, "remote", "add", "node1", node);
    await git(gw, "config", "remote.node1.annex-cluster-node", "mycluster");
    await git(gw, "config", "remote.dn.annex-cluster-node", "mycluster");
    await initCluster("annexgate", gw, "mycluster");
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
  });
  after(async () => {
    await server?.stop();
    if (root !== "") await removeDir(root);
  });

  it("an upload to the cluster reaches the directory node and the git node", async () => {
    await writeRandomFile(join(client, "both"), 1_300_000);
    await git(client, "annex", "add", "-q", "both");
    await git(client, "commit", "-q", "-m", "both");
    await git(client, "annex", "copy", "-q", "--to", "origin-mycluster", "both");
    const key = await keyOf(client, "both");
    assert.equal(await holdsVerified(node, key), true, "the git node");
    assert.equal(await inDirectory(key), true, "the directory node");
    // Stock, reading the directory remote directly, finds the whole content.
    const fsck = await git(gw, "annex", "fsck", "--from", "dn", "--key", key);
    assert.match(fsck, / ok$/m, fsck);
  });

  it("a download comes from the directory node when only it has the key", async () => {
    const key = await keyOf(client, "both");
    await git(node, "annex", "drop", "-q", "--force", "--key", key);
    assert.equal(await holdsVerified(node, key), false);
    await git(client, "annex", "drop", "-q", "--force", "both");
    await git(client, "annex", "get", "-q", "--from", "origin-mycluster", "both");
    assert.equal(await holdsVerified(client, key), true);
  });

  it("a drop from the cluster removes the directory node's object", async () => {
    const key = await keyOf(client, "both");
    await git(client, "annex", "drop", "-q", "--from", "origin-mycluster", "both");
    assert.equal(await inDirectory(key), false);
    assert.equal(await holdsVerified(node, key), false);
  });
});
