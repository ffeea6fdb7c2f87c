/**
 * What a cluster chooses: which nodes an upload goes to, what it reports
 * when a node fails in the middle, where it reads from, and how it passes
 * BYPASS on. Real repositories on disk; the failing node is a real node
 * whose store is cut off part-way.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../test/helpers/index.js";
import { locationsOf, setLocation } from "../branch/index.js";
import type { Key } from "../keys/index.js";
import { sample } from "../peers/conformance.js";
import {
  DelegatingPeer,
  type LocalRepository,
  openLocalRepository,
  type Peer,
  type PeerContext,
  type StoreRequest,
  type StoreResult,
} from "../peers/index.js";
import { LiveSizes } from "../policy/index.js";
import { ClusterPeer, type ClusterPeerOptions, type Placement } from "./cluster-peer.js";
import { ProxiedPeer } from "./proxied-peer.js";

const CLUSTER_UUID = "ac000000-0000-8000-8000-000000000002";
const NO_HOLD = { commit() {}, release() {} };

/** A placement by preferred content alone, room everywhere. */
function wanting(wants: (uuid: string) => boolean): Placement {
  return {
    prepare: async () => ({ wants, reserve: async (us) => us.map(() => NO_HOLD) }),
    removing: () => NO_HOLD,
  };
}

/** A node that reads `limit` bytes of a store and then fails, as a node killed mid-upload. */
class FailingMidStore extends DelegatingPeer {
  constructor(
    inner: Peer,
    private readonly limit: number,
  ) {
    super(inner);
  }
  override async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    const limit = this.limit;
    let seen = 0;
    const cut = new Readable({ read() {} });
    // The node's own store sees the failure through its stream.
    cut.on("error", () => {});
    req.data.on("data", (chunk: Buffer) => {
      if (seen >= limit) return;
      const piece = chunk.subarray(0, limit - seen);
      seen += piece.length;
      cut.push(piece);
      if (seen >= limit) cut.destroy(new Error("node went away"));
    });
    req.data.on("end", () => cut.push(null));
    return this.inner.store({ ...req, data: cut }, ctx);
  }
}

describe("ClusterPeer choices", () => {
  let dir: string;
  let gateway: LocalRepository;
  const nodes: LocalRepository[] = [];

  before(async () => {
    dir = await makeTempDir("annexgate-cluster-");
    await gitAnnexRepo(`${dir}/gw`, "gateway");
    gateway = await openLocalRepository(`${dir}/gw`, { commitDelayMs: 50 });
    for (let i = 1; i <= 3; i++) {
      await gitAnnexRepo(`${dir}/node${i}`, `node${i}`);
      nodes.push(await openLocalRepository(`${dir}/node${i}`, { commitDelayMs: 50 }));
    }
  });
  after(async () => {
    for (const n of nodes) await n.close();
    await gateway?.close();
    await removeDir(dir);
  });

  const proxied = (p: Peer) =>
    new ProxiedPeer({
      node: p,
      record: async (key, uuid, present) => {
        await setLocation(gateway.branch, key, uuid, present);
      },
    });

  function cluster(over: Partial<ClusterPeerOptions> = {}, peers?: Peer[]): ClusterPeer {
    const list = (peers ?? nodes.map((n) => n.peer)).map((p) => ({ peer: proxied(p), cost: 100 }));
    return new ClusterPeer({
      uuid: CLUSTER_UUID,
      gatewayUuid: gateway.uuid,
      nodes: async () => list,
      locations: async (key) => new Set(await locationsOf(gateway.branch, key)),
      ...over,
    });
  }

  const upload = (peer: Peer, s: { key: Key; data: Buffer }) =>
    peer.store({ key: s.key, offset: 0, length: s.data.length, data: Readable.from([s.data]) });

  const onDisk = async (key: Key) =>
    (await Promise.all(nodes.map(async (n) => ((await n.store.has(key)) ? n.uuid : null)))).filter(
      (u) => u !== null,
    );

  it("stores to every node when none has preferred content, and names them all", async () => {
    const s = sample(300_000);
    const r = await upload(cluster(), s);
    assert.equal(r.stored, true);
    const all = nodes.map((n) => n.uuid).sort();
    assert.deepEqual([...r.plusUuids].sort(), all);
    assert.deepEqual((await onDisk(s.key)).sort(), all);
    assert.deepEqual((await locationsOf(gateway.branch, s.key)).sort(), all);
  });

  it("stores only to the nodes that want the key", async () => {
    const want = new Set([nodes[0]?.uuid, nodes[2]?.uuid]);
    const s = sample(50_000);
    const r = await upload(cluster({ placement: wanting((u) => want.has(u)) }), s);
    assert.equal(r.stored, true);
    assert.deepEqual([...r.plusUuids].sort(), [...want].sort());
    assert.deepEqual((await onDisk(s.key)).sort(), [...want].sort());
  });

  it("falls back to every node lacking the key when no node wants it (as git-annex)", async () => {
    const s = sample(20_000);
    const r = await upload(cluster({ placement: wanting(() => false) }), s);
    assert.equal(r.stored, true);
    assert.equal(r.plusUuids.length, 3);
  });

  it("a node failing mid-upload is left out of the answer, holds nothing, and the rest store", async () => {
    const s = sample(3 * 1024 * 1024);
    const [n1, n2, n3] = nodes as [LocalRepository, LocalRepository, LocalRepository];
    const r = await upload(
      cluster({}, [n1.peer, new FailingMidStore(n2.peer, 1024 * 1024), n3.peer]),
      s,
    );
    assert.equal(r.stored, true);
    assert.deepEqual([...r.plusUuids].sort(), [n1.uuid, n3.uuid].sort());
    assert.deepEqual((await onDisk(s.key)).sort(), [n1.uuid, n3.uuid].sort());
    assert.deepEqual((await locationsOf(gateway.branch, s.key)).sort(), [n1.uuid, n3.uuid].sort());
    // The upload can then be completed to the failed node: it resumes.
    const again = await upload(cluster(), s);
    assert.equal(again.stored, true);
    assert.deepEqual((await onDisk(s.key)).sort(), nodes.map((n) => n.uuid).sort());
  });

  it("every node failing means not stored", async () => {
    const s = sample(2 * 1024 * 1024);
    const failing = nodes.map((n) => new FailingMidStore(n.peer, 100_000));
    const r = await upload(cluster({}, failing), s);
    assert.deepEqual(r, { stored: false, plusUuids: [] });
    assert.deepEqual(await onDisk(s.key), []);
  });

  it("retrieves from a node the log names, and falls back when that node lacks it", async () => {
    const s = sample(40_000);
    const [n1, n2] = nodes as [LocalRepository, LocalRepository];
    assert.equal((await upload(n2.peer, s)).stored, true);
    // The gateway's log wrongly says node1 has it, and does not know node2 does.
    await setLocation(gateway.branch, s.key, n1.uuid, true);
    const got = await cluster().retrieve(s.key, 0);
    assert.ok(got);
    const chunks: Buffer[] = [];
    for await (const c of got.data) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(s.data));
    assert.equal(await got.valid, true);
    assert.equal((await cluster().checkPresent(s.key)).present, true);
  });

  it("removes from every node and reports each", async () => {
    const s = sample(10_000);
    const c = cluster();
    assert.equal((await upload(c, s)).stored, true);
    const r = await c.remove(s.key);
    assert.equal(r.removed, true);
    assert.deepEqual([...r.plusUuids].sort(), nodes.map((n) => n.uuid).sort());
    assert.deepEqual(await onDisk(s.key), []);
    assert.deepEqual(await locationsOf(gateway.branch, s.key), []);
  });

  it("names the nodes that stored an upload, not those that had it (as git-annex)", async () => {
    const s = sample(25_000);
    const [n1, n2, n3] = nodes as [LocalRepository, LocalRepository, LocalRepository];
    // node1 has it already, unknown to the gateway's location log.
    assert.equal((await upload(n1.peer, s)).stored, true);
    const c = cluster();
    assert.deepEqual(await c.putOffset(s.key), { alreadyHave: false, offset: 0 });
    const r = await upload(c, s);
    assert.equal(r.stored, true);
    assert.deepEqual([...r.plusUuids].sort(), [n2.uuid, n3.uuid].sort());
    // The log now has node2 and node3, so only node1 is a target: it has
    // the key, and the answer names it alone (ALREADY-HAVE-PLUS).
    const offset = await c.putOffset(s.key);
    assert.deepEqual(offset, { alreadyHave: true, plusUuids: [n1.uuid] });
    assert.deepEqual(await upload(c, s), { stored: true, plusUuids: [n1.uuid] });
    await c.remove(s.key);
  });

  it("a gateway without a copy is neither asked nor named on remove (as git-annex)", async () => {
    const s = sample(15_000);
    const c = cluster({
      gateway: { peer: gateway.peer },
      placement: wanting((u) => u !== gateway.uuid),
    });
    assert.equal((await upload(c, s)).stored, true);
    assert.equal(await gateway.store.has(s.key), false);
    // An expired deadline removes nothing anywhere, and names nobody.
    const now = await c.getTimestamp();
    assert.deepEqual(await c.remove(s.key, { before: now - 5 }), { removed: false, plusUuids: [] });
    const r = await c.remove(s.key);
    assert.equal(r.removed, true);
    assert.deepEqual([...r.plusUuids].sort(), nodes.map((n) => n.uuid).sort());
    // No node at all is a failure, even with the gateway holding a copy.
    assert.equal((await upload(gateway.peer, s)).stored, true);
    const empty = cluster({ gateway: { peer: gateway.peer }, nodes: async () => [] });
    assert.deepEqual(await empty.remove(s.key), { removed: false, plusUuids: [] });
    assert.equal(await gateway.store.has(s.key), true);
    await gateway.peer.remove(s.key);
  });

  it("remove-before is translated to each node's clock", async () => {
    const s = sample(10_000);
    const c = cluster();
    assert.equal((await upload(c, s)).stored, true);
    const now = await c.getTimestamp();
    assert.equal((await c.remove(s.key, { before: now - 5 })).removed, false);
    assert.equal((await onDisk(s.key)).length, 3);
    assert.equal((await c.remove(s.key, { before: now + 60 })).removed, true);
    assert.deepEqual(await onDisk(s.key), []);
  });

  it("the gateway keeps a copy only when it wants one, serves it first, and loses it on remove", async () => {
    const wanted = sample(30_000);
    const unwanted = sample(30_000);
    const c = cluster({
      gateway: { peer: gateway.peer },
      placement: {
        prepare: async (key) => ({
          wants: (u) => u !== gateway.uuid || key === wanted.key,
          reserve: async (us) => us.map(() => NO_HOLD),
        }),
        removing: () => NO_HOLD,
      },
    });
    const r = await upload(c, wanted);
    assert.ok(r.plusUuids.includes(gateway.uuid));
    assert.equal(await gateway.store.has(wanted.key), true);
    assert.equal((await upload(c, unwanted)).stored, true);
    assert.equal(await gateway.store.has(unwanted.key), false);
    // With every node's copy gone, the gateway's still serves.
    for (const n of nodes) await n.peer.remove(wanted.key);
    const got = await c.retrieve(wanted.key, 0);
    assert.ok(got);
    got.data.resume();
    assert.equal(await got.valid, true);
    const removed = await c.remove(wanted.key);
    assert.equal(removed.removed, true);
    assert.ok(removed.plusUuids.includes(gateway.uuid));
    assert.equal(await gateway.store.has(wanted.key), false);
  });

  it("the gateway's copy alone does not make the cluster have the key", async () => {
    const s = sample(20_000);
    // The gateway wants everything; no node has room.
    const c = cluster({
      gateway: { peer: gateway.peer },
      placement: {
        prepare: async () => ({
          wants: () => true,
          reserve: async (us) => us.map((u) => (u === gateway.uuid ? NO_HOLD : null)),
        }),
        removing: () => NO_HOLD,
      },
    });
    const r = await upload(c, s);
    assert.equal(r.stored, false);
    assert.equal(await gateway.store.has(s.key), true);
    assert.equal((await c.checkPresent(s.key)).present, false);
    assert.deepEqual(await c.putOffset(s.key), { alreadyHave: false, offset: 0 });
    // A remove from the cluster succeeds on the nodes whatever the
    // gateway's copy does, and takes that copy too.
    const locked = await gateway.peer.lockContent(s.key);
    assert.equal(locked.kind, "locked");
    const lock = locked.lock;
    const removed = await c.remove(s.key);
    assert.equal(removed.removed, true);
    assert.ok(!removed.plusUuids.includes(gateway.uuid));
    await lock.release();
    await gateway.peer.remove(s.key);
  });

  it("8 uploads at once into nodes with room for 4: 4 stored, no node past its maxsize", async () => {
    const size = 100_000;
    const [n1, n2] = nodes as [LocalRepository, LocalRepository];
    // Room for two more keys of this size on each of two nodes.
    const live = new LiveSizes(
      new Map([
        [n1.uuid, 0n],
        [n2.uuid, 0n],
      ]),
      new Map([
        [n1.uuid, BigInt(2 * size + size / 2)],
        [n2.uuid, BigInt(2 * size + size / 2)],
      ]),
    );
    const c = cluster(
      {
        placement: {
          prepare: async (key) => ({
            // Like a balanced expression: only the emptier node wants it.
            wants: (u) => {
              const other = u === n1.uuid ? n2.uuid : n1.uuid;
              return (
                live.size(u) < live.size(other) ||
                (live.size(u) === live.size(other) && u === n1.uuid)
              );
            },
            reserve: (us) => live.reserveAll(us, BigInt(key.size ?? 0)),
          }),
          removing: (u, key) => live.beginRemove(u, BigInt(key.size ?? 0)),
        },
      },
      [n1.peer, n2.peer],
    );
    const samples = Array.from({ length: 8 }, () => sample(size));
    const results = await Promise.all(samples.map((s) => upload(c, s)));
    assert.equal(results.filter((r) => r.stored).length, 4);
    for (const n of [n1, n2]) {
      const held = (await Promise.all(samples.map((s) => n.store.has(s.key)))).filter(Boolean);
      assert.equal(held.length, 2, `${n.uuid} holds ${held.length}`);
      assert.ok(live.size(n.uuid) <= (live.maxSize(n.uuid) as bigint));
    }
    for (const [i, r] of results.entries()) {
      const s = samples[i] as { key: Key };
      const onDisk = (await Promise.all([n1, n2].map((n) => n.store.has(s.key)))).filter(Boolean);
      assert.equal(onDisk.length, r.stored ? 1 : 0);
    }
  });

  it("passes BYPASS on with this gateway added, and asks for nodes with it", async () => {
    const seen: string[][] = [];
    const list = nodes.map((n) => ({ peer: proxied(n.peer), cost: 100 }));
    const c = cluster({
      nodes: async (bypass) => {
        seen.push([...bypass].sort());
        return list;
      },
    });
    const other = "0b000000-0000-4000-8000-000000000009";
    await c.checkPresent(sample(10).key, { bypass: [other] });
    assert.deepEqual(seen.at(-1), [other, gateway.uuid].sort());
  });
});
