/**
 * Connections to remotes close when a remote leaves the configuration, but
 * only once the downloads and locks using them have ended. Real
 * repositories, opened in-process as the gateway opens local nodes.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../test/helpers/index.js";
import { sample, storeAll } from "../peers/conformance.js";
import type { Remote } from "../remotes/types.js";
import { connectRemote } from "./connect.js";
import { RemoteConnections } from "./connections.js";

describe("RemoteConnections", () => {
  let dir: string;
  let remote: Remote;
  let opened = 0;
  let closed = 0;
  /** Waiters for the count of closed connections to reach a number. */
  const closeWaiters: { count: number; resolve: () => void }[] = [];
  /** Resolves once `count` connections have closed in all (bounded by the test's timeout). */
  const closedReaches = (count: number) =>
    new Promise<void>((resolve) => {
      if (closed >= count) resolve();
      else closeWaiters.push({ count, resolve });
    });

  before(async () => {
    dir = await makeTempDir("annexgate-connections-");
    await gitAnnexRepo(dir, "node");
    const { run } = await import("../../test/helpers/index.js");
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    remote = {
      name: "node",
      uuid,
      cost: 100,
      transport: { kind: "local", path: dir },
      proxy: true,
      clusterNode: [],
      clusterGateway: [],
      proxiedBy: null,
      ignore: false,
    };
  });
  after(async () => {
    await removeDir(dir);
  });

  const connections = () =>
    new RemoteConnections(async (r) => {
      const c = await connectRemote(r, { gatewayUuid: "00000000-0000-4000-8000-000000000000" });
      opened += 1;
      return {
        peer: c.peer,
        close: async () => {
          await c.close();
          closed += 1;
          for (const w of closeWaiters.splice(0)) {
            if (closed >= w.count) w.resolve();
            else closeWaiters.push(w);
          }
        },
      };
    });

  it("connects once on first use, and closes when retired and unused", async () => {
    const conns = connections();
    const before = { opened, closed };
    const peer = conns.peerFor(remote);
    const s = sample(1000);
    assert.equal((await peer.checkPresent(s.key)).present, false);
    await peer.checkPresent(s.key);
    assert.equal(opened - before.opened, 1);
    assert.equal(conns.size, 1);
    conns.retainOnly([remote]);
    assert.equal(conns.size, 1);
    conns.retainOnly([]);
    assert.equal(conns.size, 0);
    await closedReaches(before.closed + 1);
    assert.equal(closed - before.closed, 1);
    // Used again: a fresh connection.
    await peer.checkPresent(s.key);
    assert.equal(opened - before.opened, 2);
    await conns.closeAll();
  });

  it("a retired connection stays open until its download and its lock have ended", async () => {
    const conns = connections();
    const peer = conns.peerFor(remote);
    const s = sample(500_000);
    const stored = await storeAll(peer, s);
    assert.equal(stored.stored, true);
    const download = await peer.retrieve(s.key, 0);
    assert.ok(download);
    const locked = await peer.lockContent(s.key);
    assert.equal(locked.kind, "locked");
    const lock = locked.lock;
    const closedBefore = closed;
    conns.retainOnly([]);
    assert.equal(conns.size, 1, "kept while in use");
    const chunks: Buffer[] = [];
    for await (const c of download.data) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(s.data));
    // The download's use ends when its stream closes: after that, only the lock holds it.
    if (!download.data.closed) await once(download.data, "close");
    assert.equal(conns.size, 1, "the lock still uses it");
    await lock.release();
    await closedReaches(closedBefore + 1);
    assert.equal(conns.size, 0);
    assert.equal(closed - closedBefore, 1);
    await conns.closeAll();
  });
});
