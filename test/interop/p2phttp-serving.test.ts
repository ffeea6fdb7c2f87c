/**
 * How `annexgate p2phttp` is served: HTTPS with --certfile/--privatekeyfile
 * and users from the environment (--authenv), --directory noticing new and
 * removed repositories without a restart, and --socket. Stock git-annex
 * clients do the talking where they can.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { ANNEXGATE_BIN, annexHttpClone, startAnnexgate } from "../helpers/servers.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";

async function selfSignedCert(dir: string): Promise<{ cert: string; key: string; caDir: string }> {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  ]);
  // git-annex (Haskell x509-system) trusts the certificates in this directory
  const caDir = join(dir, "trusted");
  await mkdir(caDir);
  await run("cp", [cert, join(caDir, "cert.pem")]);
  return { cert, key, caDir };
}

describe("serving options", { timeout: 300_000 }, () => {
  let root: string;
  before(async () => {
    root = await makeTempDir();
  });
  after(async () => {
    if (root) await removeDir(root);
  });

  test("HTTPS with users from the environment (--authenv): stock client with credentials", async () => {
    const dir = join(root, "https");
    await mkdir(dir);
    const { cert, key, caDir } = await selfSignedCert(dir);
    const repo = await gitAnnexRepo(join(dir, "srv"), "served");
    await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: repo });
    const server = await startAnnexgate(
      repo,
      ["--authenv", "--certfile", cert, "--privatekeyfile", key],
      {
        GIT_ANNEX_P2PHTTP_PASSWORD_alice: "sekrit",
        GIT_ANNEX_P2PHTTP_PASSWORD_bob: "bobpw",
        GIT_ANNEX_P2PHTTP_PERMISSIONS_bob: "readonly",
      },
    );
    try {
      const client = await annexHttpClone(repo, join(dir, "client"), server.port);
      const env = { SYSTEM_CERTIFICATE_PATH: caDir, GIT_TERMINAL_PROMPT: "0" };
      const g = (...a: string[]) => run("git", a, { cwd: client, env });
      await g(
        "config",
        "remote.origin.annexUrl",
        `annex+https://127.0.0.1:${server.port}/git-annex/`,
      );
      const creds = join(dir, "credentials");
      await writeFile(creds, `annex+https://alice:sekrit@127.0.0.1:${server.port}/git-annex\n`, {
        mode: 0o600,
      });
      await g("config", "credential.helper", `store --file=${creds}`);
      await writeFile(join(client, "secret.dat"), randomBytes(300_000));
      await g("annex", "add", "--quiet", "secret.dat");
      await g("commit", "-q", "-m", "add");
      await g("annex", "copy", "--quiet", "--to", "origin", "secret.dat");
      await g("annex", "drop", "--quiet", "secret.dat");
      await g("annex", "get", "--quiet", "--from", "origin", "secret.dat");
      // readonly bob may read but not write
      await writeFile(creds, `annex+https://bob:bobpw@127.0.0.1:${server.port}/git-annex\n`, {
        mode: 0o600,
      });
      await writeFile(join(client, "other.dat"), randomBytes(1000));
      await g("annex", "add", "--quiet", "other.dat");
      await g("commit", "-q", "-m", "add2");
      await assert.rejects(g("annex", "copy", "--to", "origin", "other.dat"));
      await g("annex", "drop", "--quiet", "secret.dat");
      await g("annex", "get", "--quiet", "--from", "origin", "secret.dat");
      // without credentials nothing is served
      await writeFile(creds, "", { mode: 0o600 });
      await assert.rejects(g("annex", "drop", "--from", "origin", "secret.dat"));
    } finally {
      await server.stop();
    }
  });

  test("--directory serves every repository under a folder, noticing new and removed ones", async () => {
    const folder = join(root, "repos");
    await mkdir(folder);
    const a = await gitAnnexRepo(join(folder, "a"), "repo a");
    await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: a });
    const server = await startAnnexgate(root, ["--wideopen", "--directory", folder]);
    try {
      const ca = await annexHttpClone(a, join(root, "client-a"), server.port, "ca");
      await writeFile(join(ca, "x"), "content of x\n");
      await run("git", ["annex", "add", "--quiet", "x"], { cwd: ca });
      await run("git", ["commit", "-q", "-m", "x"], { cwd: ca });
      await run("git", ["annex", "copy", "--quiet", "--to", "origin", "x"], { cwd: ca });

      // a repository created after the server started is served without a restart
      const b = await gitAnnexRepo(join(folder, "b"), "repo b");
      await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: b });
      const cb = await annexHttpClone(b, join(root, "client-b"), server.port, "cb");
      await writeFile(join(cb, "y"), "content of y\n");
      await run("git", ["annex", "add", "--quiet", "y"], { cwd: cb });
      await run("git", ["commit", "-q", "-m", "y"], { cwd: cb });
      await run("git", ["annex", "copy", "--quiet", "--to", "origin", "y"], { cwd: cb });
      const bUuid = (await run("git", ["config", "annex.uuid"], { cwd: b })).trim();
      const keyY = (await run("git", ["annex", "lookupkey", "y"], { cwd: cb })).trim();
      const check = () =>
        fetch(`${server.base}/${bUuid}/v4/checkpresent?key=${keyY}&clientuuid=${CLIENT}`, {
          method: "POST",
        });
      assert.deepEqual(await (await check()).json(), { present: true });

      // a repository moved away is no longer served
      await rename(b, join(root, "b-moved"));
      assert.equal((await check()).status, 404);
      // and repo a is unaffected
      await run("git", ["annex", "drop", "--quiet", "x"], { cwd: ca });
      await run("git", ["annex", "get", "--quiet", "--from", "origin", "x"], { cwd: ca });
    } finally {
      await server.stop();
    }
  });

  test("--socket listens on a unix socket", async () => {
    const repo = await gitAnnexRepo(join(root, "sock-srv"), "served");
    const uuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
    const socket = join(root, "p2phttp.sock");
    const child = execFile(
      process.execPath,
      [ANNEXGATE_BIN, "p2phttp", "--wideopen", "--socket", socket],
      {
        cwd: repo,
      },
    );
    try {
      const ask = () =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request(
            {
              socketPath: socket,
              method: "POST",
              path: `/git-annex/${uuid}/v3/gettimestamp?clientuuid=${CLIENT}`,
            },
            (res) => {
              let body = "";
              res.on("data", (d: Buffer) => {
                body += d.toString();
              });
              res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on("error", reject);
          req.end();
        });
      let answer: { status: number; body: string } | null = null;
      for (let i = 0; i < 200 && answer === null; i++) {
        answer = await ask().catch(() => null);
        if (answer === null) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(answer, "server answered on the socket");
      assert.equal(answer.status, 200);
      assert.equal(typeof (JSON.parse(answer.body) as { timestamp: unknown }).timestamp, "number");
    } finally {
      child.kill("SIGTERM");
    }
  });
});
