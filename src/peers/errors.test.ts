/**
 * Which PeerError a remote's failure becomes, for the HTTP and line Peers:
 * no answer is PeerUnreachableError, a "no" PeerRefusedError, an answer
 * the protocol does not allow PeerProtocolError. Real servers on loopback
 * and real child processes.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { genUuid, parseKey } from "../keys/index.js";
import {
  HttpPeer,
  LinePeer,
  PeerError,
  PeerProtocolError,
  PeerRefusedError,
  PeerUnreachableError,
} from "./index.js";

const KEY = parseKey(
  "SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
);
const UUID = genUuid();

describe("HttpPeer errors", () => {
  let server: Server;
  let port = 0;
  /** What the server answers, by operation (the path's last segment). */
  const answers = new Map<string, { status: number; body: string }>();

  before(async () => {
    server = createServer((req, res) => {
      const op = new URL(req.url ?? "/", "http://x").pathname.split("/").pop() ?? "";
      const a = answers.get(op) ?? { status: 404, body: "not found" };
      req.resume();
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(a.body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const peer = () =>
    new HttpPeer({ url: `annex+http://127.0.0.1:${port}/`, uuid: UUID, clientUuid: genUuid() });

  it("a server that does not answer is unreachable", async () => {
    const gone = createServer();
    gone.listen(0, "127.0.0.1");
    await once(gone, "listening");
    const gonePort = (gone.address() as AddressInfo).port;
    await new Promise((r) => gone.close(r));
    const p = new HttpPeer({
      url: `annex+http://127.0.0.1:${gonePort}/`,
      uuid: UUID,
      clientUuid: genUuid(),
    });
    await assert.rejects(p.checkPresent(KEY), PeerUnreachableError);
    await p.close();
  });

  it("a non-200 answer is a refusal, with its status", async () => {
    answers.set("checkpresent", { status: 403, body: "" });
    const p = peer();
    await assert.rejects(
      p.checkPresent(KEY),
      (e: unknown) => e instanceof PeerRefusedError && e.data.status === 403,
    );
    await p.close();
  });

  it("an answer the API does not allow is a protocol error", async () => {
    answers.set("checkpresent", { status: 200, body: '{"present":"perhaps"}' });
    const p = peer();
    await assert.rejects(p.checkPresent(KEY), PeerProtocolError);
    answers.set("checkpresent", { status: 200, body: "<html>" });
    await assert.rejects(p.checkPresent(KEY), PeerProtocolError);
    await p.close();
  });

  it("lockContent of absent content answers absent, not an error", async () => {
    answers.set("checkpresent", { status: 200, body: '{"present":false}' });
    const p = peer();
    assert.deepEqual(await p.lockContent(KEY), { kind: "absent" });
    await p.close();
  });

  it("the three share PeerError and carry their own codes", () => {
    const codes = [PeerUnreachableError, PeerRefusedError, PeerProtocolError].map((C) => {
      const e = new C("x");
      assert.ok(e instanceof PeerError);
      return e.code;
    });
    assert.deepEqual(codes, ["AG_PEER_UNREACHABLE", "AG_PEER_REFUSED", "AG_PEER_PROTOCOL"]);
    assert.equal(new PeerError("x").code, "AG_PEER");
  });
});

describe("LinePeer errors", () => {
  /** A "server" that writes `lines` on stdout, then waits for stdin to end. */
  const scripted = (lines: string) => {
    const script = `process.stdout.write(${JSON.stringify(lines)}); process.stdin.resume();`;
    return new LinePeer({ command: process.execPath, args: ["-e", script], uuid: UUID });
  };

  it("a command that cannot start is unreachable", async () => {
    const p = new LinePeer({ command: "/nonexistent/annexgate-test-shell", args: [], uuid: UUID });
    await assert.rejects(p.checkPresent(KEY), PeerUnreachableError);
    await p.close();
  });

  it("AUTH-FAILURE and an ERROR answer are refusals", async () => {
    const denied = scripted("AUTH-FAILURE\n");
    await assert.rejects(denied.checkPresent(KEY), PeerRefusedError);
    await denied.close();
    const erring = scripted(`AUTH-SUCCESS ${UUID}\nVERSION 1\nERROR not today\n`);
    await assert.rejects(
      erring.checkPresent(KEY),
      (e: unknown) => e instanceof PeerRefusedError && /not today/.test(e.message),
    );
    await erring.close();
  });

  it("a reply out of turn or a line that does not parse is a protocol error", async () => {
    const outOfTurn = scripted(`AUTH-SUCCESS ${UUID}\nVERSION 1\nTIMESTAMP 5\n`);
    await assert.rejects(outOfTurn.checkPresent(KEY), PeerProtocolError);
    await outOfTurn.close();
    const garbage = scripted("HELLO THERE\n");
    await assert.rejects(garbage.checkPresent(KEY), PeerProtocolError);
    await garbage.close();
  });
});
