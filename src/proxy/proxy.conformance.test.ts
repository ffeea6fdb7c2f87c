/**
 * The Peer conformance suite against a proxied node and against a cluster
 * of three nodes, all real repositories on disk, with the gateway's own
 * location log checked after.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../test/helpers/index.js";
import { locationsOf, setLocation } from "../branch/index.js";
import { runPeerConformance, sample, storeAll } from "../peers/conformance.js";
import { type LocalRepository, openLocalRepository } from "../peers/index.js";
import { ClusterPeer } from "./cluster-peer.js";
import { ProxiedPeer } from "./proxied-peer.js";

const CLUSTER_UUID = "ac000000-0000-8000-8000-000000000001";

interface Setup {
  readonly dir: string;
  readonly gateway: LocalRepository;
  readonly nodes: LocalRepository[];
  close(): Promise<void>;
}

async function setup(nodeCount: number): Promise<Setup> {
  const dir = await makeTempDir("annexgate-proxy-");
  await gitAnnexRepo(`${dir}/gw`, "gateway");
  const gateway = await openLocalRepository(`${dir}/gw`, { commitDelayMs: 50 });
  const nodes: LocalRepository[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    await gitAnnexRepo(`${dir}/node${i}`, `node${i}`);
    nodes.push(await openLocalRepository(`${dir}/node${i}`, { commitDelayMs: 50 }));
  }
  return {
    dir,
    gateway,
    nodes,
    close: async () => {
      for (const n of nodes) await n.close();
      await gateway.close();
      await removeDir(dir);
    },
  };
}

function proxied(s: Setup, node: LocalRepository): ProxiedPeer {
  return new ProxiedPeer({
    node: node.peer,
    record: async (key, uuid, present) => {
      await setLocation(s.gateway.branch, key, uuid, present);
    },
  });
}

let proxiedSetup: Setup | undefined;
runPeerConformance("ProxiedPeer over a local node", async () => {
  proxiedSetup = await setup(1);
  const s = proxiedSetup;
  return { peer: proxied(s, s.nodes[0] as LocalRepository), cleanup: async () => {} };
});

let clusterSetup: Setup | undefined;
function cluster(s: Setup): ClusterPeer {
  const nodes = s.nodes.map((n) => ({ peer: proxied(s, n), cost: 100 }));
  return new ClusterPeer({
    uuid: CLUSTER_UUID,
    gatewayUuid: s.gateway.uuid,
    nodes: async () => nodes,
    locations: async (key) => new Set(await locationsOf(s.gateway.branch, key)),
  });
}
runPeerConformance(
  "ClusterPeer over three local nodes",
  async () => {
    clusterSetup = await setup(3);
    return { peer: cluster(clusterSetup), cleanup: async () => {} };
  },
  { locking: false, plusUuids: () => clusterSetup?.nodes.map((n) => n.uuid) ?? [] },
);

describe("the gateway's location log after proxying", () => {
  after(async () => {
    await proxiedSetup?.close();
    await clusterSetup?.close();
  });

  it("names the node for content stored through the proxy, and forgets it on remove", async () => {
    const s = proxiedSetup as Setup;
    const node = s.nodes[0] as LocalRepository;
    const peer = proxied(s, node);
    const x = sample(5000);
    const r = await storeAll(peer, x);
    assert.equal(r.stored, true);
    assert.deepEqual(await locationsOf(s.gateway.branch, x.key), [node.uuid]);
    assert.deepEqual(await locationsOf(node.branch, x.key), [node.uuid]);
    assert.equal((await peer.remove(x.key)).removed, true);
    assert.deepEqual(await locationsOf(s.gateway.branch, x.key), []);
  });
});
