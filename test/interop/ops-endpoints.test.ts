/**
 * The operator paths beside the p2phttp API, attacked and used: a request
 * target the URL parser refuses is answered, not fatal; /healthz and
 * /readyz answer; behind the API's users /readyz lists no repository; a
 * HEAD of the dashboard's feed ends at once.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, waitFor } from "../helpers/index.js";
import { type RunningP2pHttp, requestLines, startAnnexgate } from "../helpers/servers.js";

/** Sends `head` on a fresh connection and resolves to the status line of the answer. */
function rawStatus(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let got = "";
    sock.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n")) {
        sock.destroy();
        resolve(got.slice(0, got.indexOf("\r\n")));
      }
    });
    sock.on("error", reject);
    sock.on("close", () => resolve(got));
    sock.write(head);
  });
}

describe("operator paths on the API's port", { timeout: 120_000 }, () => {
  let dir: string;
  let server: RunningP2pHttp;
  before(async () => {
    dir = await makeTempDir("annexgate-ops-");
    await gitAnnexRepo(dir, "served");
    server = await startAnnexgate(dir, [
      "--wideopen",
      "--metrics",
      "--dashboard",
      "--log-format",
      "json",
    ]);
  });
  after(async () => {
    await server?.stop();
    await removeDir(dir);
  });

  it("a request target the URL parser refuses is answered, and the server goes on", async () => {
    for (const target of ["http://[", "//[", "http://x:99999/", "*"]) {
      const status = await rawStatus(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(status, /^HTTP\/1\.1 4\d\d /, `${target}: ${status}`);
    }
    assert.equal(server.child.exitCode, null, server.stderr());
    const r = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "ok\n");
    assert.doesNotMatch(server.stderr(), /\n\s+at /, "no stack trace");
  });

  it("/readyz answers, and lists no repository to the API's users", async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body.status, "ready");
    assert.deepEqual(body.nodes, []);
    assert.ok(!("repositories" in body), JSON.stringify(body));
  });

  it("a HEAD of the dashboard's feed ends at once", async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/dashboard/events?interval=1e10`, {
      method: "HEAD",
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(r.status, 200);
  });

  it("pipelined requests: each byte on the connection is counted once", async () => {
    const healthz = () => requestLines(server.stderr()).filter((x) => x.endpoint === "healthz");
    const earlier = healthz().length;
    const request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const sent = request.repeat(5);
    const received = await new Promise<number>((resolve, reject) => {
      const sock = connect(server.port, "127.0.0.1");
      let got = "";
      sock.on("data", (d) => {
        got += d.toString("latin1");
        if ((got.match(/ok\n/g) ?? []).length === 5) {
          sock.end();
          resolve(Buffer.byteLength(got, "latin1"));
        }
      });
      sock.on("error", reject);
      sock.write(sent);
    });
    const lines = await waitFor("the five lines", async () => {
      const l = healthz().slice(earlier);
      return l.length === 5 && l;
    });
    const sum = (f: string) => lines.reduce((n, l) => n + (l[f] as number), 0);
    assert.equal(sum("bytesIn"), sent.length);
    assert.equal(sum("bytesOut"), received);
  });
});
