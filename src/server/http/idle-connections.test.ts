import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { type IdleConnection, idleConnection, until } from "../../../test/helpers/raw-http.js";
import { IdleConnections } from "./idle-connections.js";

const CAP = 4;

/** A keep-alive GET on `sock`; resolves with the body once the answer is complete. */
function getOn(sock: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      const m = /\r\n\r\n([\s\S]*)$/.exec(text);
      const length = /content-length: (\d+)/i.exec(text);
      if (m && length && (m[1] ?? "").length >= Number(length[1])) {
        sock.off("data", onData);
        resolve(m[1] ?? "");
      }
    };
    sock.on("data", onData);
    sock.once("error", reject);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe("IdleConnections: a cap on one client's idle connections", () => {
  let server: Server;
  let port = 0;
  let cap: IdleConnections;
  /** Requests the handler holds until the test releases them. */
  const held: Array<() => void> = [];

  before(async () => {
    server = createServer((req, res) => {
      const answer = () => res.end(`ok ${req.url}`);
      if (req.url === "/hold") held.push(answer);
      else answer();
    });
    server.keepAliveTimeout = 600_000;
    cap = new IdleConnections(CAP);
    cap.attach(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("refuses a cap below 1", () => {
    assert.throws(() => new IdleConnections(0), RangeError);
  });

  it("past the cap, the oldest idle connections are closed, the newest kept", async () => {
    const conns: IdleConnection[] = [];
    for (let i = 0; i < CAP + 3; i++) conns.push(await idleConnection(port));
    await until(
      "the three oldest to be closed",
      () => conns.filter((c) => c.closed()).length === 3,
    );
    assert.deepEqual(
      conns.map((c) => c.closed()),
      [true, true, true, false, false, false, false],
    );
    // The kept ones still work.
    for (const c of conns.slice(3)) assert.equal(await getOn(c.sock, "/x"), "ok /x");
    for (const c of conns) c.sock.destroy();
    await until("the server to see them go", () => cap.idle === 0);
  });

  it("a connection kept alive after its answer is idle again, and counted", async () => {
    const a = await idleConnection(port);
    assert.equal(await getOn(a.sock, "/first"), "ok /first");
    const others = [];
    for (let i = 0; i < CAP; i++) others.push(await idleConnection(port));
    // `a` went idle first: it is the oldest, and goes.
    await until("the kept-alive connection to be closed", () => a.closed());
    assert.ok(others.every((c) => !c.closed()));
    for (const c of others) c.sock.destroy();
    await until("the server to see them go", () => cap.idle === 0);
  });

  it("a connection busy with a request is never closed for the cap", async () => {
    const busy = await idleConnection(port);
    const answer = getOn(busy.sock, "/hold");
    await until("the request to reach the handler", () => held.length === 1);
    const idle: IdleConnection[] = [];
    for (let i = 0; i < CAP + 2; i++) idle.push(await idleConnection(port));
    await until("two idle ones to be closed", () => idle.filter((c) => c.closed()).length === 2);
    assert.equal(busy.closed(), false);
    held.shift()?.();
    assert.equal(await answer, "ok /hold");
    // Answered, `busy` is now the newest idle connection: the oldest other goes.
    await until(
      "one more idle one to be closed",
      () => idle.filter((c) => c.closed()).length === 3,
    );
    assert.equal(busy.closed(), false);
    busy.sock.destroy();
    for (const c of idle) c.sock.destroy();
    await until("the server to see them go", () => cap.idle === 0);
  });

  it("each client address has its own cap: a flood from one leaves another alone", async () => {
    const other = await idleConnection(port, "127.0.0.2");
    const flood: IdleConnection[] = [];
    for (let i = 0; i < 10 * CAP; i++) flood.push(await idleConnection(port));
    await until(
      "the flood to be cut to the cap",
      () => flood.filter((c) => !c.closed()).length === CAP,
    );
    assert.equal(other.closed(), false);
    assert.equal(await getOn(other.sock, "/other"), "ok /other");
    // And the flooding client can still be served.
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/honest", agent: false }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(answer, "ok /honest");
    other.sock.destroy();
    for (const c of flood) c.sock.destroy();
    await until("the server to see them go", () => cap.idle === 0);
  });
});
