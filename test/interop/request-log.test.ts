/**
 * annexgate p2phttp's request log (`--log-format json`): every request,
 * answered or refused or cut off, makes exactly one JSON line, with its
 * id (the one in the answer's X-Request-Id), client, user, repository,
 * key, status, bytes and duration; and no line holds a credential.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { localCluster, uuidOf } from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  run,
  runOutcome,
  tmpBytes,
  waitFor,
} from "../helpers/index.js";
import {
  ANNEXGATE_BIN,
  type RunningP2pHttp,
  requestLines,
  startAnnexgate,
} from "../helpers/servers.js";

const PASSWORD = "s3cret-Pa55word";
const CLIENT = "00000000-1111-2222-3333-444444444444";
const DATA = Buffer.from("hello, request log\n");
const KEY = "SHA256E-s19--0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

describe("the request log", { timeout: 300_000 }, () => {
  let dir: string;
  let uuid: string;
  let server: RunningP2pHttp;
  const auth = (password: string) => `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`;
  const url = (op: string, query = "") =>
    `${server.base}/${uuid}/v4/${op}?clientuuid=${CLIENT}${query}`;

  before(async () => {
    dir = await makeTempDir("annexgate-request-log-");
    await gitAnnexRepo(dir, "served");
    uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    server = await startAnnexgate(dir, ["--authenv-http", "--log-format", "json"], {
      GIT_ANNEX_P2PHTTP_PASSWORD_alice: PASSWORD,
    });
  });
  after(async () => {
    await server?.stop();
    await removeDir(dir);
  });

  test("one line per request, answered, refused or cut off, with its fields", async () => {
    const good = { authorization: auth(PASSWORD) };
    const ids: { id: string; status: number; what: string }[] = [];
    const ask = async (what: string, target: string, init: RequestInit = {}) => {
      const r = await fetch(target, { method: "POST", ...init });
      await r.arrayBuffer();
      const id = r.headers.get("x-request-id");
      assert.ok(id, `${what}: the answer carries its request id`);
      ids.push({ id, status: r.status, what });
      return r;
    };
    await ask("checkpresent", url("checkpresent", `&key=${KEY}`), { headers: good });
    await ask("no password", url("checkpresent", `&key=${KEY}`));
    await ask("a wrong password", url("checkpresent", `&key=${KEY}`), {
      headers: { authorization: auth("wrong") },
    });
    await ask("a bad key", url("checkpresent", "&key=notakey"), { headers: good });
    await ask("an unknown repository", url("checkpresent", `&key=${KEY}`).replace(uuid, CLIENT), {
      headers: good,
    });
    await ask("put", url("put", `&key=${KEY}`), {
      headers: { ...good, "X-git-annex-data-length": String(DATA.length) },
      body: DATA,
    });
    await ask("get", `${server.base}/${uuid}/v4/key/${KEY}?clientuuid=${CLIENT}`, {
      method: "GET",
      headers: good,
    });
    assert.deepEqual(
      ids.map((i) => i.status),
      [200, 401, 401, 400, 404, 200, 200],
    );

    // A put cut off after its headers and part of its body: no answer, one line.
    const sock = connect(server.port, "127.0.0.1");
    sock.on("error", () => undefined);
    sock.write(
      `POST /git-annex/${uuid}/v4/put?key=${KEY.replace("s19", "s1000")}&clientuuid=${CLIENT} HTTP/1.1\r\n` +
        `Host: x\r\nAuthorization: ${good.authorization}\r\n` +
        "X-git-annex-data-length: 1000\r\nContent-Length: 1000\r\n\r\npartial",
    );
    await waitFor("the cut-off put's first bytes to reach the repository", async () => {
      return (await tmpBytes(dir)) >= "partial".length;
    });
    sock.destroy();
    const lines = await waitFor("the cut-off put's line", async () => {
      const all = requestLines(server.stderr());
      return all.length === ids.length + 1 && all;
    });

    assert.equal(lines.length, ids.length + 1, server.stderr());
    for (const { id, status, what } of ids) {
      const mine = lines.filter((l) => l.reqId === id);
      assert.equal(mine.length, 1, `${what}: exactly one line`);
      const l = mine[0] as (typeof lines)[number];
      assert.equal(l.status, status, what);
      assert.equal(l.client, "127.0.0.1", what);
      for (const field of ["method", "endpoint", "version", "bytesIn", "bytesOut", "ms"]) {
        assert.ok(field in l, `${what}: ${field}`);
      }
    }
    const byWhat = (what: string) =>
      lines.find((l) => l.reqId === ids.find((i) => i.what === what)?.id);
    assert.equal(byWhat("checkpresent")?.user, "alice");
    assert.equal(byWhat("checkpresent")?.key, KEY);
    assert.equal(byWhat("checkpresent")?.uuid, uuid);
    assert.equal(byWhat("put")?.endpoint, "put");
    assert.ok((byWhat("put")?.bytesIn as number) >= DATA.length, "the put's body was read");
    assert.ok((byWhat("get")?.bytesOut as number) >= DATA.length, "the get's body was sent");
    const cut = lines.at(-1);
    assert.equal(cut?.endpoint, "put");
    assert.equal(cut?.complete, false, "a request cut off says so");
  });

  test("the gateway's first computation of repository sizes is told, start and end", () => {
    const said = server
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    const start = said.indexOf("calculating repository sizes from every location log");
    assert.ok(start >= 0, server.stderr());
    assert.ok(said.indexOf("repository sizes calculated") > start, server.stderr());
  });

  test("no line holds a credential", () => {
    const err = server.stderr();
    assert.ok(!err.includes(PASSWORD), "the password");
    assert.ok(!err.includes(Buffer.from(`alice:${PASSWORD}`).toString("base64")), "the header");
    assert.doesNotMatch(err, /authorization/i);
  });
});

describe("--log-level and --log-format", { timeout: 120_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir("annexgate-log-level-");
    await gitAnnexRepo(dir, "served");
  });
  after(() => removeDir(dir));

  test("warn leaves requests out; text is one readable line a request", async () => {
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: dir })).trim();
    for (const [args, expectLine] of [
      [["--log-level", "warn"], false],
      [["--log-format", "text"], true],
    ] as const) {
      const s = await startAnnexgate(dir, ["--wideopen", ...args]);
      try {
        const r = await fetch(`${s.base}/${uuid}/v4/gettimestamp?clientuuid=${CLIENT}`, {
          method: "POST",
        });
        assert.equal(r.status, 200);
        const id = r.headers.get("x-request-id") as string;
        if (expectLine) {
          const line = await waitFor("the request's line", async () =>
            s
              .stderr()
              .split("\n")
              .find((l) => l.includes(id)),
          );
          assert.match(line, /INFO: request .*"endpoint":"gettimestamp".*"status":200/);
        } else {
          // A later line proves the server got past the request: stop it and read all.
          await s.stop();
          assert.ok(!s.stderr().includes(id), s.stderr());
        }
      } finally {
        await s.stop();
      }
    }
  });

  test("a level or format it does not know is a usage error", async () => {
    for (const args of [
      ["--log-level", "verbose"],
      ["--log-format", "xml"],
    ]) {
      const r = await runOutcome(process.execPath, [ANNEXGATE_BIN, "p2phttp", ...args], {
        cwd: dir,
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`${args[0]} must be one of`));
    }
  });
});

describe("the request log names what a request reached", { timeout: 300_000 }, () => {
  let root: string;
  before(async () => {
    root = await makeTempDir("annexgate-request-target-");
  });
  after(() => removeDir(root));

  test("the gateway's repository, a cluster, a proxied node", async () => {
    const { gw, cluster } = await localCluster(root, ["node1", "node2"], "stock");
    const targets = new Map([
      [await uuidOf(gw), "repository"],
      [cluster, "cluster"],
      [await uuidOf(`${root}/node1`), "proxied"],
    ]);
    const s = await startAnnexgate(gw, ["--wideopen", "--log-format", "json"]);
    try {
      const ids = new Map<string, string>();
      for (const [uuid, target] of targets) {
        const r = await fetch(`${s.base}/${uuid}/v4/checkpresent?key=${KEY}&clientuuid=${CLIENT}`, {
          method: "POST",
        });
        assert.equal(r.status, 200, `${target}: ${await r.text()}`);
        ids.set(r.headers.get("x-request-id") as string, target);
      }
      const lines = await waitFor("the three request lines", async () => {
        const found = requestLines(s.stderr()).filter((l) => ids.has(l.reqId));
        return found.length === ids.size ? found : undefined;
      });
      for (const l of lines) assert.equal(l.target, ids.get(l.reqId), JSON.stringify(l));
    } finally {
      await s.stop();
    }
  });
});
