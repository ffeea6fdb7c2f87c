/**
 * The demo (scripts/demo.sh), run as a user runs it: it makes its demo
 * cluster (three repositories, a directory node and an S3 node on the S3
 * server it starts on loopback) and serves it; a stock client copies a
 * file to the demo cluster and it lands on every node, the directory and
 * S3 ones included; stopping the demo stops its S3 server too.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { access } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DirectoryStorage } from "../../src/peers/index.js";
import { holdsVerified, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, waitFor } from "../helpers/index.js";
import { freePort } from "../helpers/servers.js";

/** The checkout: this file is built to dist/test/interop/. */
const CHECKOUT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Whether something accepts connections on a loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      done(true);
    });
    s.once("error", () => done(false));
  });
}

describe("the demo: a mixed demo cluster served by scripts/demo.sh", { timeout: 600_000 }, () => {
  let root = "";
  let demo = "";
  let port = 0;
  let s3Port = 0;
  let child: ChildProcess | undefined;
  let output = "";

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-demo-");
    demo = join(root, "demo");
    port = await freePort();
    s3Port = await freePort();
    child = spawn("sh", [join(CHECKOUT, "scripts", "demo.sh")], {
      cwd: root,
      env: { ...process.env, DEMO_DIR: demo, PORT: String(port), S3_PORT: String(s3Port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr?.on("data", (b: Buffer) => (output += b.toString()));
    await waitFor(
      "the demo to serve",
      async () => {
        assert.equal(child?.exitCode, null, output);
        return /annexgate p2phttp: serving/.test(output) && (await listening(port));
      },
      180_000,
    );
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    if (root !== "") await removeDir(root);
  });

  it("prints how to use it, naming the directory and S3 nodes", () => {
    assert.match(output, /git annex copy --to origin-demo/);
    assert.match(
      output,
      new RegExp(`dirnode \\(a directory\\), s3node \\(S3 on 127\\.0\\.0\\.1:${s3Port}\\)`),
    );
  });

  it("a stock client's copy to the demo cluster lands on every node", async () => {
    const client = join(root, "client");
    const git = (...a: string[]) => run("git", a, { cwd: client });
    await run("git", ["clone", "-q", join(demo, "gateway"), client]);
    await git("annex", "init", "-q", "client");
    await git("config", "remote.origin.annexUrl", `annex+http://127.0.0.1:${port}/git-annex/`);
    await git("config", "annex.security.allowed-ip-addresses", "all");
    await run("sh", ["-c", "echo hello from the demo test > hello.txt"], { cwd: client });
    await git("annex", "add", "-q", "hello.txt");
    await git("commit", "-q", "-m", "hello");
    await git("annex", "copy", "-q", "--to", "origin-demo", "hello.txt");
    const key = await keyOf(client, "hello.txt");
    for (const n of ["node1", "node2", "node3"]) {
      assert.equal(await holdsVerified(join(demo, n), key), true, n);
    }
    assert.equal(await new DirectoryStorage(join(demo, "directory")).has(key), true, "dirnode");
    // The S3 node's object, where the demo's s3rver keeps it.
    await access(join(demo, "s3", "annexgate-demo", `${key}._S3rver_object`));
    const whereis = await git("annex", "whereis", "hello.txt");
    assert.match(whereis, /\[origin-dirnode\]/, whereis);
    assert.match(whereis, /\[origin-s3node\]/, whereis);
  });

  it("stopping the demo stops its S3 server", async () => {
    assert.equal(await listening(s3Port), true);
    child?.kill("SIGTERM");
    if (child?.exitCode === null) await once(child, "exit");
    // The demo waits for its servers to end before it exits.
    assert.equal(await listening(s3Port), false);
    assert.equal(await listening(port), false);
  });
});
