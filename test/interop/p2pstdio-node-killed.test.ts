/**
 * A node that goes away mid-transfer, behind `annexgate shell p2pstdio
 * --uuid NODE`: the node is a repository behind stock git-annex-shell and a
 * real sshd, and its git-annex-shell is killed once bytes have been seen.
 * The client must get a clear failure (never a hang, a stack trace or a
 * server path), and the gateway's next request to the node must open a
 * new connection and succeed.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gatewayRepo, holdsVerified, uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import { SESSION_DEADLINE_MS, ShellSession } from "../helpers/p2pstdio-session.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";
const SIZE = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** Bytes in the node's .git/annex/tmp: the upload arriving. */
async function tmpBytes(repo: string): Promise<number> {
  const dir = join(repo, ".git", "annex", "tmp");
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    total += await stat(join(dir, name)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
  }
  return total;
}

/**
 * Kill, by process id, the git-annex-shell serving `repo` (started by this
 * test's sshd for the gateway's connection); returns how many there were.
 */
async function killNodeShell(repo: string): Promise<number> {
  let killed = 0;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0)))
      .toString("utf8")
      .split("\0");
    const program = basename(argv[0] ?? "");
    if (program !== "git-annex-shell" || !argv.some((a) => a.includes("p2pstdio"))) continue;
    if (!argv.some((a) => a.includes(repo))) continue;
    process.kill(Number(pid), "SIGKILL");
    killed++;
  }
  return killed;
}

/** Wait (bounded) until `ready` holds; polled, since a file growing has no event to wait on. */
async function waitFor(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + SESSION_DEADLINE_MS * 2;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a node killed mid-transfer behind annexgate shell", { timeout: 600_000 }, () => {
  let root = "";
  let gw = "";
  let node = "";
  let nodeUuid = "";
  let sshd: TestSshd;
  const bytes = randomBytes(SIZE);
  const key = `SHA256E-s${SIZE}--${createHash("sha256").update(bytes).digest("hex")}.bin`;

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-node-killed-");
    node = await gitAnnexRepo(join(root, "node"), "node");
    nodeUuid = await uuidOf(node);
    sshd = await startSshd("stock");
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    const git = (...a: string[]) => run("git", a, { cwd: gw, env: sshd.clientEnv() });
    await git("remote", "add", "node", `${sshd.host}:${node}`);
    await git("config", "remote.node.annex-uuid", nodeUuid);
    await git("config", "remote.node.annex-proxy", "true");
    await git("annex", "updateproxy");
  });

  after(async () => {
    await ShellSession.killAll();
    await sshd?.stop();
    if (root) await removeDir(root);
  });

  function open(): ShellSession {
    return new ShellSession(gw, CLIENT, nodeUuid, sshd.clientEnv());
  }

  /** DATA of `data` then VALID, written with backpressure. */
  async function sendData(s: ShellSession, data: Buffer): Promise<void> {
    s.write(`DATA ${data.length}\n`);
    for (let i = 0; i < data.length; i += CHUNK) {
      if (!s.child.stdin.write(data.subarray(i, i + CHUNK))) {
        await new Promise((r) => s.child.stdin.once("drain", r));
      }
    }
    s.write("VALID\n");
  }

  test("PUT: a clear failure, then the same session's next PUT reconnects and stores", async () => {
    const s = open();
    await s.handshake();
    s.write(`PUT f.bin ${key}\n`);
    assert.equal(await s.line(), "PUT-FROM 0");
    const sending = sendData(s, bytes);
    await waitFor(async () => (await tmpBytes(node)) > 0, "the node receiving bytes");
    assert.ok((await killNodeShell(node)) >= 1, "the node's git-annex-shell was running");
    await sending;
    const answer = await s.line();
    assert.match(answer, /^(FAILURE|ERROR)/);
    assert.ok(!answer.includes(root), `no server path in ${answer}`);

    // The gateway's next request to the node opens a new connection.
    s.write(`PUT f.bin ${key}\n`);
    const from = await s.line();
    assert.match(from, /^PUT-FROM \d+$/);
    const offset = Number(from.slice("PUT-FROM ".length));
    await sendData(s, bytes.subarray(offset));
    assert.match(await s.line(), /^SUCCESS/);
    s.closeInput();
    assert.equal((await s.exitWithin()).code, 0, s.stderr());
    assert.ok(await holdsVerified(node, key));
  });

  test("GET: the session ends with a clear message; a fresh one gets the content", async () => {
    const s = open();
    await s.handshake();
    s.write(`GET 0 f.bin ${key}\n`);
    assert.equal(await s.line(), `DATA ${SIZE}`);
    await s.bytes(CHUNK);
    assert.ok((await killNodeShell(node)) >= 1, "the node's git-annex-shell was running");
    // The promised bytes cannot all come: the server hangs up (the protocol's only way).
    await assert.rejects(s.bytes(SIZE - CHUNK), /closed its output/);
    const exit = await s.exitWithin();
    assert.equal(exit.code, 1);
    assert.match(s.stderr(), /^git-annex: /);
    assert.doesNotMatch(s.stderr(), /\n\s+at /, "no stack trace");

    const again = open();
    await again.handshake();
    again.write(`GET 0 f.bin ${key}\n`);
    assert.equal(await again.line(), `DATA ${SIZE}`);
    assert.ok((await again.bytes(SIZE)).equals(bytes));
    assert.equal(await again.line(), "VALID");
    again.write("SUCCESS\n");
    again.closeInput();
    assert.equal((await again.exitWithin()).code, 0, again.stderr());
  });
});
