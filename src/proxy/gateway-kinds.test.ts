/**
 * The gateway reaches a proxied remote through the registry of remote
 * kinds it is given: a registered kind is the one used, and a remote of a
 * kind the registry lacks fails with the registry's typed error. A real
 * gateway repository proxying for a real node repository, with the real
 * routing of the remotes layer.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { recordProxies } from "../branch/index.js";
import { sample } from "../peers/conformance.js";
import {
  builtinPeerKinds,
  type LocalRepository,
  localKind,
  openLocalRepository,
  type PeerKind,
  PeerKinds,
  UnknownRemoteKindError,
} from "../peers/index.js";
import { clusterNodesFor, loadGatewayConfig, routeFor } from "../remotes/index.js";
import { Gateway } from "./gateway.js";

describe("Gateway and the registry of remote kinds", () => {
  let dir: string;
  let gw: LocalRepository;
  let nodeUuid: string;

  before(async () => {
    dir = await makeTempDir("annexgate-gateway-kinds-");
    const node = await gitAnnexRepo(`${dir}/node`, "node");
    await gitAnnexRepo(`${dir}/gw`, "gateway");
    nodeUuid = (await run("git", ["config", "annex.uuid"], { cwd: node })).trim();
    const git = (args: string[]) => run("git", args, { cwd: `${dir}/gw` });
    await git(["remote", "add", "node", node]);
    await git(["config", "remote.node.annex-uuid", nodeUuid]);
    await git(["config", "remote.node.annex-proxy", "true"]);
    gw = await openLocalRepository(`${dir}/gw`, { commitDelayMs: 50 });
    await recordProxies(gw.branch, gw.uuid, [{ uuid: nodeUuid, name: "node" }]);
  });
  after(async () => {
    await gw.close();
    await removeDir(dir);
  });

  function gatewayWith(kinds: PeerKinds): Gateway {
    return new Gateway({
      repo: gw,
      routing: {
        load: () => loadGatewayConfig(gw.git, gw.branch),
        route: routeFor,
        clusterNodes: clusterNodesFor,
      },
      connect: { kinds, commitDelayMs: 50 },
    });
  }

  it("opens the proxied node with the kind registered for it", async () => {
    const opened: string[] = [];
    const counting: PeerKind<"local"> = {
      kind: "local",
      open: async (remote, transport, ctx) => {
        opened.push(remote.name);
        return localKind.open(remote, transport, ctx);
      },
    };
    const gateway = gatewayWith(builtinPeerKinds.with(counting));
    try {
      const peer = await gateway.lookup(nodeUuid);
      assert.ok(peer, "the gateway proxies for the node");
      assert.equal(opened.length, 0, "connected on first use, not before");
      assert.equal((await peer.checkPresent(sample(10).key)).present, false);
      assert.deepEqual(opened, ["node"]);
    } finally {
      await gateway.close();
    }
  });

  it("a node of a kind the registry lacks fails with its typed error", async () => {
    const gateway = gatewayWith(new PeerKinds([]));
    try {
      const peer = await gateway.lookup(nodeUuid);
      assert.ok(peer);
      await assert.rejects(peer.checkPresent(sample(10).key), (e: unknown) => {
        assert.ok(e instanceof UnknownRemoteKindError);
        assert.equal(e.data.kind, "local");
        assert.equal(e.data.remote, "node");
        return true;
      });
    } finally {
      await gateway.close();
    }
  });
});
