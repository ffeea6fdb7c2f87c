/**
 * Bad requests to a gateway, and nodes that fail under it. For
 * git-annex-shell, side by side with stock: a UUID the gateway does not
 * proxy for (known or not), a malformed one, a cluster it is not a gateway
 * of. Over HTTP: unknown UUIDs, path-escaping keys to a cluster and to a
 * proxied node, a node whose repository has gone, an upload to the cluster
 * cut off by the client. Nothing is half-written and the server lives on.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, rename } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { localCluster, uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";
import { ANNEXGATE_GIT_ANNEX_SHELL } from "../helpers/sshd.js";

const CLIENT = "00000000-1111-2222-3333-444444444444";

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runShell(program: string, args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: { ...process.env, ANNEXGATE_NODE: process.execPath },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    child.stdin.end("");
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: out, stderr: err });
    });
  });
}

/** POST to the server; resolves with the status and body. */
function post(
  port: number,
  path: string,
  body?: { data: Buffer; cutAfter?: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/git-annex/${path}`,
        headers: body
          ? {
              "content-length": String(body.data.length),
              "x-git-annex-data-length": String(body.data.length),
            }
          : {},
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", (e) =>
      body?.cutAfter !== undefined ? resolve({ status: 0, body: "" }) : reject(e),
    );
    if (!body) {
      req.end();
      return;
    }
    if (body.cutAfter === undefined) {
      req.end(body.data);
      return;
    }
    // Send part, then drop the connection as a client that went away.
    req.write(body.data.subarray(0, body.cutAfter), () => {
      setTimeout(() => {
        req.destroy();
        resolve({ status: 0, body: "" });
      }, 200);
    });
  });
}

describe("bad requests to a gateway, and failing nodes", { timeout: 600_000 }, () => {
  let root: string;
  let gw: string;
  let cluster: string;
  let server: RunningP2pHttp;
  let stockShell: string;
  const nodes = ["node1", "node2"];

  before(async () => {
    root = await makeTempDir("annexgate-gateway-bad-");
    stockShell = (await run("sh", ["-c", "command -v git-annex-shell"])).trim();
    ({ gw, cluster } = await localCluster(root, nodes, "stock"));
    await gitAnnexRepo(join(root, "lonely"), "lonely");
    // A repository the gateway knows of (uuid.log) but does not proxy for.
    await run("git", ["remote", "add", "lonely", join(root, "lonely")], { cwd: gw });
    await run("git", ["fetch", "-q", "lonely"], { cwd: gw });
    await run("git", ["annex", "merge", "-q"], { cwd: gw });
    server = await startAnnexgate(gw, ["--wideopen"]);
  });
  after(async () => {
    await server?.stop();
    await removeDir(root);
  });

  test("git-annex-shell --uuid refusals are stock's, word for word", async () => {
    const lonely = await uuidOf(join(root, "lonely"));
    const cases: [string, string][] = [
      ["a repository it knows of but does not proxy for", lonely],
      ["an unknown UUID", "22222222-3333-4444-5555-666666666666"],
      ["a cluster UUID it is not a gateway of", "ac000000-0000-8000-8000-000000000000"],
      ["a malformed UUID", "../../etc"],
    ];
    for (const [what, uuid] of cases) {
      const args = ["p2pstdio", gw, CLIENT, "--uuid", uuid];
      const a = await runShell(stockShell, args);
      const b = await runShell(ANNEXGATE_GIT_ANNEX_SHELL, args);
      assert.equal(b.code, a.code, `${what}: exit status\nstock: ${a.stderr}\nours: ${b.stderr}`);
      assert.equal(b.stderr, a.stderr, `${what}: stderr`);
      assert.equal(b.stdout, a.stdout, `${what}: stdout`);
    }
    // And the ones it does proxy for are served: AUTH-SUCCESS names them.
    for (const uuid of [cluster, await uuidOf(join(root, "node1"))]) {
      const b = await runShell(ANNEXGATE_GIT_ANNEX_SHELL, ["p2pstdio", gw, CLIENT, "--uuid", uuid]);
      assert.equal(b.stdout, `AUTH-SUCCESS ${uuid}\n`, b.stderr);
    }
  });

  test("over HTTP: unknown UUIDs, bad and path-escaping keys, for the cluster and a node", async () => {
    const unknown = await post(
      server.port,
      `22222222-3333-4444-5555-666666666666/v4/checkpresent?key=SHA256E-s1--00&clientuuid=${CLIENT}`,
    );
    assert.equal(unknown.status, 404, unknown.body);
    for (const target of [cluster, await uuidOf(join(root, "node1"))]) {
      for (const key of ["..", "a/b"]) {
        const r = await post(
          server.port,
          `${target}/v4/checkpresent?key=${key}&clientuuid=${CLIENT}`,
        );
        assert.equal(r.status, 400, `${target} ${key}: ${r.status} ${r.body}`);
      }
      // A key with "/" is a key (git-annex makes them); its dot segments never leave the store.
      const escaping = "SHA256E-s1--..%2F..%2Fx";
      const r = await post(
        server.port,
        `${target}/v4/checkpresent?key=${escaping}&clientuuid=${CLIENT}`,
      );
      assert.equal(r.status, 200, `${target} ${escaping}: ${r.status} ${r.body}`);
      assert.equal(r.body, '{"present":false}');
    }
  });

  test("an upload to the cluster cut off by the client leaves no object on any node", async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const { createHash } = await import("node:crypto");
    const key = `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}`;
    await post(server.port, `${cluster}/v4/put?key=${key}&clientuuid=${CLIENT}&offset=0`, {
      data,
      cutAfter: 3 * 1024 * 1024,
    });
    for (const n of nodes) {
      const objects = await readdir(join(root, n, ".git", "annex", "objects"), {
        recursive: true,
      }).catch(() => [] as string[]);
      assert.ok(!objects.some((o) => o.endsWith(key)), `${n} has ${key}`);
    }
    // The upload can be resumed to completion.
    const offset = await post(
      server.port,
      `${cluster}/v4/putoffset?key=${key}&clientuuid=${CLIENT}`,
    );
    assert.equal(offset.status, 200, offset.body);
    const done = await post(
      server.port,
      `${cluster}/v4/put?key=${key}&clientuuid=${CLIENT}&offset=0`,
      {
        data,
      },
    );
    assert.equal(done.status, 200, done.body);
    assert.equal(JSON.parse(done.body).stored, true, done.body);
  });

  test("a node whose repository has gone: the cluster goes on with the others", async () => {
    const gone = join(root, "node2");
    await rename(gone, `${gone}.away`);
    try {
      const data = randomBytes(100_000);
      const { createHash } = await import("node:crypto");
      const key = `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}`;
      const r = await post(
        server.port,
        `${cluster}/v4/put?key=${key}&clientuuid=${CLIENT}&offset=0`,
        {
          data,
        },
      );
      assert.equal(r.status, 200, r.body);
      const json = JSON.parse(r.body) as { stored: boolean; plusuuids?: string[] };
      assert.equal(json.stored, true, r.body);
      assert.deepEqual(json.plusuuids, [await uuidOf(join(root, "node1"))]);
      // Asking the missing node directly gets no "present" (an error or a
      // plain no), and no crash.
      const direct = await post(
        server.port,
        `${await uuidOf(`${gone}.away`)}/v4/checkpresent?key=${key}&clientuuid=${CLIENT}`,
      );
      assert.ok(direct.status !== 200 || JSON.parse(direct.body).present === false, direct.body);
    } finally {
      await rename(`${gone}.away`, gone);
    }
    const alive = await post(
      server.port,
      `${cluster}/v4/checkpresent?key=SHA256E-s1--00&clientuuid=${CLIENT}`,
    );
    assert.equal(alive.status, 200, alive.body);
  });
});
