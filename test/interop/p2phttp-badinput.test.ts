/**
 * Bad input against `annexgate p2phttp`: every malformed request gets a
 * clear HTTP error (or `false`, where git-annex answers so), the server
 * keeps serving, and no partial or wrong object is ever stored. The served
 * repository is then checked by stock git-annex.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";

function sha256Key(data: Buffer, ext = ""): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}${ext}`;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if ((await stat(p)).isDirectory()) await walk(p);
      else out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Send raw bytes on a fresh connection; resolve with what came back before close. */
function rawRequest(
  port: number,
  bytes: Buffer | string,
  opts: {
    /** Cut the connection off once the bytes are written (and `cutWhen` holds). */
    destroyAfterWrite?: boolean;
    /** An event to wait for (bounded) before cutting off: bytes seen by the server, say. */
    cutWhen?: () => Promise<boolean>;
  } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let got = "";
    sock.on("data", (d) => {
      got += d.toString("latin1");
    });
    sock.on("error", () => resolve(got));
    sock.on("close", () => resolve(got));
    sock.setTimeout(10_000, () => {
      sock.destroy();
      reject(new Error("raw request timed out"));
    });
    sock.write(bytes, async () => {
      if (opts.destroyAfterWrite !== true) return;
      const deadline = Date.now() + 30_000;
      while (opts.cutWhen !== undefined && Date.now() < deadline && !(await opts.cutWhen())) {
        await new Promise((r) => setTimeout(r, 10));
      }
      sock.destroy();
    });
  });
}

describe("bad input to annexgate p2phttp", { timeout: 300_000 }, () => {
  let root: string;
  let repo: string;
  let uuid: string;
  let server: RunningP2pHttp;
  let base: string;
  const good = randomBytes(100_000);
  const goodKey = sha256Key(good, ".bin");

  const post = (
    path: string,
    init: { body?: Buffer | string; headers?: Record<string, string> } = {},
  ) => fetch(`${base}/${path}`, { method: "POST", ...init });

  async function stillServing(): Promise<void> {
    const r = await post(`${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT}`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { present: true });
  }

  before(async () => {
    root = await makeTempDir();
    repo = await gitAnnexRepo(join(root, "srv"), "served");
    uuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
    server = await startAnnexgate(repo, ["--wideopen"]);
    base = server.base;
    const r = await post(`${uuid}/v4/put?key=${goodKey}&clientuuid=${CLIENT}`, {
      body: good,
      headers: { "X-git-annex-data-length": String(good.length) },
    });
    assert.deepEqual(await r.json(), { stored: true, plusuuids: [] });
  });

  after(async () => {
    await server?.stop();
    if (root) await removeDir(root);
  });

  test("invalid keys get 400", async () => {
    const bad = [
      "badkey",
      "SHA256E-sabc--x",
      "SHA256E-s1-",
      "--x",
      "SHA256E-s1--..",
      "WORM--.",
      "WORM--a\u0000b",
      "WORM--a\nb",
      "WORM--a\rb",
      "",
    ];
    for (const k of bad) {
      for (const op of ["checkpresent", "put", "remove", "lockcontent", "putoffset"]) {
        const r = await post(`${uuid}/v4/${op}?key=${encodeURIComponent(k)}&clientuuid=${CLIENT}`, {
          body: "x",
          headers: { "X-git-annex-data-length": "1" },
        });
        assert.equal(r.status, 400, `${op} ${JSON.stringify(k)}`);
        await r.arrayBuffer();
      }
      const g = await fetch(`${base}/${uuid}/v4/key/${encodeURIComponent(k)}?clientuuid=${CLIENT}`);
      assert.ok(g.status === 400 || g.status === 404, `GET ${JSON.stringify(k)}: ${g.status}`);
      await g.arrayBuffer();
    }
    // base64url-wrapped bad keys are refused as well
    const wrapped = `[${Buffer.from("WORM--a\nb").toString("base64url")}]`;
    const r = await post(`${uuid}/v4/checkpresent?key=${wrapped}&clientuuid=${CLIENT}`);
    assert.equal(r.status, 400);
    const badB64 = await post(`${uuid}/v4/checkpresent?key=[!!!]&clientuuid=${CLIENT}`);
    assert.equal(badB64.status, 400);
    // a raw path with dot segments never reaches a file
    const raw = await rawRequest(
      server.port,
      `GET /git-annex/${uuid}/v4/key/../../../../etc/passwd?clientuuid=${CLIENT} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assert.match(raw, /^HTTP\/1\.1 (400|404)/);
    await stillServing();
  });

  test('keys with "/" and dot segments are stored under their escaped name, never outside', async () => {
    const before = await listFiles(root);
    const key = "WORM-s5--a/../../../../../escaped";
    const r = await post(`${uuid}/v4/put?key=${encodeURIComponent(key)}&clientuuid=${CLIENT}`, {
      body: "hello",
      headers: { "X-git-annex-data-length": "5" },
    });
    assert.deepEqual(await r.json(), { plusuuids: [], stored: true });
    const added = (await listFiles(root)).filter((f) => !before.includes(f));
    const objects = join(repo, ".git", "annex", "objects");
    const escaped = "WORM-s5--a%..%..%..%..%..%escaped";
    assert.ok(
      added.some((f) => f.startsWith(objects) && f.endsWith(`/${escaped}/${escaped}`)),
      added.join("\n"),
    );
    assert.ok(
      added.every((f) => f.startsWith(join(repo, ".git"))),
      added.join("\n"),
    );
    const g = await fetch(`${base}/${uuid}/v4/key/${encodeURIComponent(key)}?clientuuid=${CLIENT}`);
    assert.equal(await g.text(), "hello");
    const rm = await post(`${uuid}/v4/remove?key=${encodeURIComponent(key)}&clientuuid=${CLIENT}`);
    assert.deepEqual(await rm.json(), { plusuuids: [], removed: true });
  });

  test("unknown and malformed UUIDs", async () => {
    const unknown = "00000000-1111-2222-3333-444444444444";
    const r1 = await post(`${unknown}/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT}`);
    assert.equal(r1.status, 404);
    const r2 = await post(`${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=`);
    assert.equal(r2.status, 400);
    assert.match(await r2.text(), /empty UUID/);
    const r3 = await post(`[%%%]/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT}`);
    assert.ok(r3.status === 400 || r3.status === 404, String(r3.status));
    const r4 = await post(`${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=[***]`);
    assert.equal(r4.status, 400);
    await stillServing();
  });

  test("missing and malformed parameters", async () => {
    const cases: [string, RequestInit, number][] = [
      [`${uuid}/v4/checkpresent?clientuuid=${CLIENT}`, { method: "POST" }, 400],
      [`${uuid}/v4/checkpresent?key=${goodKey}`, { method: "POST" }, 400],
      [`${uuid}/v4/remove-before?key=${goodKey}&clientuuid=${CLIENT}`, { method: "POST" }, 400],
      [
        `${uuid}/v4/remove-before?key=${goodKey}&clientuuid=${CLIENT}&timestamp=soon`,
        { method: "POST" },
        400,
      ],
      [`${uuid}/v4/keeplocked?clientuuid=${CLIENT}`, { method: "POST" }, 400],
      [`${uuid}/v4/put?key=${goodKey}&clientuuid=${CLIENT}`, { method: "POST", body: "x" }, 400],
      // A negative length parses (as in git-annex) and stores nothing: 200 {"stored":false}.
      [
        `${uuid}/v4/put?key=${goodKey}&clientuuid=${CLIENT}`,
        { method: "POST", body: "x", headers: { "X-git-annex-data-length": "-1" } },
        200,
      ],
      [
        `${uuid}/v4/put?key=${goodKey}&clientuuid=${CLIENT}&offset=x`,
        { method: "POST", body: "x", headers: { "X-git-annex-data-length": "1" } },
        400,
      ],
      [`${uuid}/v4/key/${goodKey}?clientuuid=${CLIENT}&offset=-5`, {}, 400],
      [`${uuid}/v4/key/${goodKey}`, {}, 400],
      [`${uuid}/v9/checkpresent?key=${goodKey}&clientuuid=${CLIENT}`, { method: "POST" }, 400],
      [`${uuid}/v2/gettimestamp?clientuuid=${CLIENT}`, { method: "POST" }, 400],
      [`${uuid}/v4/nosuchthing?clientuuid=${CLIENT}`, { method: "POST" }, 404],
      // Wrong method on a versioned path: 400 "bad version", as stock answers
      // (see p2phttp-differential.test.ts).
      [`${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT}`, { method: "GET" }, 400],
      [`${uuid}/v4/key/${goodKey}?clientuuid=${CLIENT}`, { method: "POST" }, 400],
    ];
    for (const [path, init, status] of cases) {
      const r = await fetch(`${base}/${path}`, init);
      assert.equal(r.status, status, `${init.method ?? "GET"} ${path}`);
      await r.arrayBuffer();
    }
    await stillServing();
  });

  test("bodies shorter or longer than X-git-annex-data-length, and wrong content", async () => {
    const data = randomBytes(50_000);
    const key = sha256Key(data);
    const short = await post(`${uuid}/v4/put?key=${key}&clientuuid=${CLIENT}`, {
      body: data.subarray(0, 20_000),
      headers: { "X-git-annex-data-length": String(data.length) },
    });
    assert.deepEqual(await short.json(), { stored: false, plusuuids: [] });
    const present = await post(`${uuid}/v4/checkpresent?key=${key}&clientuuid=${CLIENT}`);
    assert.deepEqual(await present.json(), { present: false });
    // what arrived is kept for a resume
    const off = await post(`${uuid}/v4/putoffset?key=${key}&clientuuid=${CLIENT}`);
    assert.deepEqual(await off.json(), { offset: 20_000 });

    const long = await post(`${uuid}/v4/put?key=${key}&clientuuid=${CLIENT}`, {
      body: Buffer.concat([data, Buffer.from("trailing garbage")]),
      headers: { "X-git-annex-data-length": String(data.length + 16) },
    });
    assert.deepEqual(await long.json(), { stored: false, plusuuids: [] });

    const wrong = randomBytes(50_000);
    const mismatch = await post(`${uuid}/v4/put?key=${key}&clientuuid=${CLIENT}`, {
      body: wrong,
      headers: { "X-git-annex-data-length": String(wrong.length) },
    });
    assert.deepEqual(await mismatch.json(), { stored: false, plusuuids: [] });
    const still = await post(`${uuid}/v4/checkpresent?key=${key}&clientuuid=${CLIENT}`);
    assert.deepEqual(await still.json(), { present: false });

    // WORM keys cannot be hashed, but their size is checked
    const worm = await post(`${uuid}/v4/put?key=WORM-s10-m1--w&clientuuid=${CLIENT}`, {
      body: "0123456789abc",
      headers: { "X-git-annex-data-length": "10" },
    });
    assert.deepEqual(await worm.json(), { stored: false, plusuuids: [] });
    await stillServing();
  });

  test("oversized headers and query strings", async () => {
    const hugeHeader = await rawRequest(
      server.port,
      `POST /git-annex/${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`,
    );
    assert.match(hugeHeader, /^HTTP\/1\.1 431/);
    const hugeQuery = await rawRequest(
      server.port,
      `POST /git-annex/${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT}&x=${"b".repeat(200 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    assert.match(hugeQuery, /^HTTP\/1\.1 431/);
    const manyHeaders = await rawRequest(
      server.port,
      `POST /git-annex/${uuid}/v4/checkpresent?key=${goodKey}&clientuuid=${CLIENT} HTTP/1.1\r\nHost: x\r\n${"X-A: b\r\n".repeat(5000)}\r\n`,
    );
    assert.match(manyHeaders, /^HTTP\/1\.1 431/);
    const garbage = await rawRequest(server.port, "\u0000\u0001 not http at all\r\n\r\n");
    assert.match(garbage, /^HTTP\/1\.1 400/);
    await stillServing();
  });

  test("connections dropped mid-body store nothing and leave a resumable temp file", async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const key = sha256Key(data);
    for (let i = 0; i < 5; i++) {
      const head = `POST /git-annex/${uuid}/v4/put?key=${key}&clientuuid=${CLIENT} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\nX-git-annex-data-length: ${data.length}\r\n\r\n`;
      await rawRequest(
        server.port,
        Buffer.concat([Buffer.from(head), data.subarray(0, 300_000 * (i + 1))]),
        {
          destroyAfterWrite: true,
          // Cut off once the server has put bytes of this upload in its
          // temp file (past what the previous round left there, which this
          // upload, from offset 0, first truncates): what is tested is what
          // it does with a partial upload.
          cutWhen: async () => {
            const tmp = await listFiles(join(repo, ".git", "annex", "tmp"));
            const sizes = await Promise.all(
              tmp.map((f) =>
                stat(f).then(
                  (st) => st.size,
                  () => 0,
                ),
              ),
            );
            return sizes.some((n) => n > 300_000 * i);
          },
        },
      );
      const present = await post(`${uuid}/v4/checkpresent?key=${key}&clientuuid=${CLIENT}`);
      assert.deepEqual(await present.json(), { present: false });
    }
    // the partial upload resumes from the server's offset and completes
    const off = (await (
      await post(`${uuid}/v4/putoffset?key=${key}&clientuuid=${CLIENT}`)
    ).json()) as {
      offset: number;
    };
    assert.ok(off.offset > 0 && off.offset < data.length, `offset ${off.offset}`);
    const rest = data.subarray(off.offset);
    const r = await post(`${uuid}/v4/put?key=${key}&clientuuid=${CLIENT}&offset=${off.offset}`, {
      body: rest,
      headers: { "X-git-annex-data-length": String(rest.length) },
    });
    assert.deepEqual(await r.json(), { stored: true, plusuuids: [] });
    // and a download dropped mid-way does not disturb the server
    for (let i = 0; i < 5; i++) {
      await rawRequest(
        server.port,
        `GET /git-annex/${uuid}/v4/key/${key}?clientuuid=${CLIENT} HTTP/1.1\r\nHost: x\r\n\r\n`,
        { destroyAfterWrite: true },
      );
    }
    await stillServing();
  });

  test("nothing wrong was stored: stock git-annex fsck agrees", async () => {
    const objects = await listFiles(join(repo, ".git", "annex", "objects"));
    const names = objects.map((p) => p.split("/").pop());
    assert.equal(names.length, 2, names.join(", "));
    const fsck = await run("git", ["annex", "fsck", "--all", "--in=here", "--json"], { cwd: repo });
    const results = fsck
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { success: boolean; key: string });
    assert.equal(results.length, 2);
    for (const x of results) assert.equal(x.success, true, x.key);
    assert.equal(server.child.exitCode, null, "server still running");
  });
});
