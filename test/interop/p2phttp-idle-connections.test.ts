/**
 * One client opening many idle connections to `annexgate p2phttp
 * --max-idle-per-client N`: the server keeps N of them (the newest),
 * closes the rest, and still answers that client and every other one.
 * Raw sockets, real HTTP on loopback, the CLI's own start (in this process,
 * so the test reads the server's counts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningServer, startP2pHttp } from "../../src/cli/p2phttp.js";
import { uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import { honest, type IdleConnection, idleConnection, until } from "../helpers/raw-http.js";
import { ANNEXGATE_BIN, QUIET } from "../helpers/servers.js";

const CAP = 3;
const FLOOD = 200;

describe("annexgate p2phttp --max-idle-per-client", { timeout: 300_000 }, () => {
  let root = "";
  let server: RunningServer;
  let port = 0;
  let uuid = "";
  const open: IdleConnection[] = [];

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-idle-conns-");
    const repo = await gitAnnexRepo(join(root, "repo"), "repo");
    uuid = await uuidOf(repo);
    server = await startP2pHttp(
      [
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--wideopen",
        "--max-idle-per-client",
        String(CAP),
        ...QUIET,
      ],
      repo,
    );
    port = Number(server.address.split(":").pop());
  });
  after(async () => {
    for (const c of open) c.sock.destroy();
    await server?.stop();
    if (root) await removeDir(root);
  });

  const timestamp = async () =>
    honest(port, {
      method: "POST",
      path: `/git-annex/${uuid}/v4/gettimestamp?clientuuid=${uuid}`,
    });

  test(`${FLOOD} idle connections from one address: ${CAP} kept, the others closed, oldest first`, async () => {
    const other = await idleConnection(port, "127.0.0.2");
    open.push(other);
    const flood: IdleConnection[] = [];
    for (let i = 0; i < FLOOD; i++) {
      const c = await idleConnection(port);
      flood.push(c);
      open.push(c);
    }
    await until(
      "the flood to be cut to the cap",
      () => flood.filter((c) => !c.closed()).length === CAP,
      60_000,
    );
    assert.deepEqual(
      flood.map((c) => !c.closed()).lastIndexOf(false),
      FLOOD - CAP - 1,
      "the newest are the ones kept",
    );
    assert.equal(other.closed(), false, "another client's idle connection is left alone");
    assert.ok(server.idle.closedByCap >= FLOOD - CAP);
    // The flooding client is still served (its oldest idle connection goes instead).
    const answer = await timestamp();
    assert.equal(answer.status, 200, answer.body.toString());
    assert.equal(other.closed(), false);
  });

  test("p2phttp --help names the flag and its default", async () => {
    const help = await run(process.execPath, [ANNEXGATE_BIN, "p2phttp", "--help"]);
    assert.match(help.replace(/\s+/g, " "), /--max-idle-per-client N [^-]*\(default 64\)/);
  });
});
