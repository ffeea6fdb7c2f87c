/**
 * NodeProbes against a real HttpPeer and a scripted p2phttp server on
 * loopback that counts the requests it gets: answers are kept for a
 * while, concurrent askers share one probe, a node that does not answer
 * in time is unreachable within the bound, and one that refuses is
 * unreachable with why.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { HttpPeer } from "../peers/index.js";
import { NodeProbes } from "./node-probes.js";

const NODE = { name: "n1", uuid: "0b8a3c1e-0000-4000-8000-000000000001" };
const CLIENT = "0b8a3c1e-0000-4000-8000-0000000000c1";

describe("NodeProbes", () => {
  let server: Server;
  let port = 0;
  let mode: "answer" | "stall" | "refuse" = "answer";
  let checks = 0;
  const stalled: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (!req.url?.includes("/checkpresent")) {
        res.writeHead(404).end();
        return;
      }
      checks++;
      if (mode === "stall") {
        stalled.push(res);
        return;
      }
      if (mode === "refuse") {
        res.writeHead(403).end("no");
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"present":false}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const r of stalled) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const peer = () =>
    new HttpPeer({
      url: `http://127.0.0.1:${port}/git-annex/`,
      uuid: NODE.uuid,
      clientUuid: CLIENT,
    });

  it("keeps an answer for a while, and concurrent askers share one probe", async () => {
    const p = peer();
    const probes = new NodeProbes({ cacheMs: 60_000 });
    checks = 0;
    const [a, b] = await Promise.all([probes.reachability(NODE, p), probes.reachability(NODE, p)]);
    assert.equal(a.reachable, true);
    assert.equal(a, b, "one probe for both");
    assert.equal(checks, 1);
    assert.equal((await probes.reachability(NODE, p)).reachable, true);
    assert.equal(checks, 1, "the kept answer");
    await p.close();
  });

  it("a node that does not answer is unreachable within the bound", async () => {
    const p = peer();
    const probes = new NodeProbes({ cacheMs: 0, timeoutMs: 300 });
    mode = "stall";
    const started = performance.now();
    const r = await probes.reachability(NODE, p);
    assert.equal(r.reachable, false);
    assert.ok(performance.now() - started < 30_000, "bounded");
    mode = "answer";
    await p.close();
  });

  it("a node that refuses is unreachable, with why", async () => {
    const p = peer();
    const probes = new NodeProbes({ cacheMs: 0 });
    mode = "refuse";
    const r = await probes.reachability(NODE, p);
    assert.equal(r.reachable, false);
    assert.match(r.error ?? "", /403/);
    mode = "answer";
    assert.equal((await probes.reachability(NODE, p)).reachable, true, "and recovers");
    await p.close();
  });
});
