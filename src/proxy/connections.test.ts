/**
 * Connections to remotes close when a remote leaves the configuration, but
 * only once the downloads and locks using them have ended. Real
 * repositories, opened in-process as the gateway opens local nodes.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../test/helpers/index.js";
import { sample } from "../peers/conformance.js";
import type { Remote } from "../remotes/types.js";
import { connectRemote } from "./connect.js";
import { RemoteConnections } from "./connections.js";

describe("RemoteConnections", () => {
  let dir: string;
  let remote: Remote;
  let opened = 0;
  let closed = 0;

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
          closed += 1;
          await c.close();
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
    await new Promise((r) => setTimeout(r, 50));
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
    const stored = await peer.store({
      key: s.key,
      offset: 0,
      length: s.data.length,
      data: Readable.from([s.data]),
    });
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
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(conns.size, 1, "the lock still uses it");
    await lock.release();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(conns.size, 0);
    assert.equal(closed - closedBefore, 1);
    await conns.closeAll();
  });
});
