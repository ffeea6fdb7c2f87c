/**
 * Content locks are shared with stock git-annex in both directions: a lock
 * annexgate holds (p2phttp lockcontent against annexgate's server) stops a
 * stock `git annex drop` run in the same repository, and a lock stock holds
 * (LOCKCONTENT to a stock `git-annex-shell p2pstdio` there) stops
 * annexgate's REMOVE. Both use the fcntl lock on `<object>.lck`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, chmod, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseKey } from "../../src/keys/index.js";
import { HttpPeer } from "../../src/peers/index.js";
import { type Message, MessageChannel } from "../../src/protocol/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";
const TIMEOUT = { timeout: 120_000 };
const ENV = {
  LC_ALL: "C.UTF-8",
  GIT_AUTHOR_NAME: "annexgate test",
  GIT_AUTHOR_EMAIL: "test@annexgate.invalid",
  GIT_COMMITTER_NAME: "annexgate test",
  GIT_COMMITTER_EMAIL: "test@annexgate.invalid",
};

/** Run a command; its exit code and everything it printed. */
function runStatus(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...ENV } });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Delete the retention timestamp a lock wrote, so that only the fcntl lock
 * protects the content: what is tested is then the lock itself.
 */
async function dropRetention(object: string): Promise<void> {
  const keyDir = dirname(object);
  const mode = (await stat(keyDir)).mode & 0o7777;
  await chmod(keyDir, mode | 0o200);
  await rm(`${object}.rtm`);
  await chmod(keyDir, mode);
}

/** Wait (bounded by count and time) until `path` is gone. */
async function waitGone(path: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
    if (!(await exists(path))) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`${path} is still there`);
}

describe("content locks shared with stock git-annex", () => {
  let dir: string;
  let repo: string;
  let uuid: string;
  let server: RunningP2pHttp;

  before(async () => {
    dir = await makeTempDir("annexgate-content-locks-");
    repo = await gitAnnexRepo(join(dir, "repo"), "served");
    uuid = (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
    server = await startAnnexgate(repo);
  }, TIMEOUT);

  after(async () => {
    await server?.stop();
    if (dir) await removeDir(dir);
  });

  async function addFile(name: string, text: string): Promise<{ key: string; object: string }> {
    await writeFile(join(repo, name), text);
    await run("git", ["annex", "add", "-q", name], { cwd: repo, env: ENV });
    await run("git", ["commit", "-q", "-m", `add ${name}`], { cwd: repo, env: ENV });
    const key = (await run("git", ["annex", "lookupkey", name], { cwd: repo })).trim();
    const rel = (await run("git", ["annex", "contentlocation", key], { cwd: repo })).trim();
    return { key, object: join(repo, rel) };
  }

  it(
    "a lock held through annexgate's p2phttp stops a stock drop until released",
    TIMEOUT,
    async () => {
      const { key, object } = await addFile("held by annexgate.txt", "annexgate holds this\n");
      const peer = new HttpPeer({ url: `${server.base}/`, uuid, clientUuid: CLIENT });
      try {
        const locked = await peer.lockContent(parseKey(key));
        assert.equal(locked.kind, "locked", "annexgate did not lock present content");
        if (locked.kind !== "locked") return;
        const lock = locked.lock;
        assert.ok(await exists(`${object}.lck`), "no lock file beside the object");
        assert.ok(await exists(`${object}.rtm`), "no retention timestamp beside the object");
        await dropRetention(object);

        const refused = await runStatus(
          "git",
          ["annex", "drop", "--force", "held by annexgate.txt"],
          repo,
        );
        assert.notEqual(refused.code, 0, refused.out);
        assert.match(refused.out, /content is locked/);
        assert.ok(await exists(object), "stock dropped locked content");

        await lock.release();
        // Releasing ends with the lock file deleted (after the shared-to-
        // exclusive conversion), as git-annex does.
        await waitGone(`${object}.lck`);

        const dropped = await runStatus(
          "git",
          ["annex", "drop", "--force", "held by annexgate.txt"],
          repo,
        );
        assert.equal(dropped.code, 0, dropped.out);
        assert.equal(await exists(object), false);
      } finally {
        await peer.close();
      }
    },
  );

  it(
    "a lock held by stock git-annex-shell stops annexgate's REMOVE until released",
    TIMEOUT,
    async () => {
      const { key, object } = await addFile("held by stock.txt", "stock holds this\n");
      const child = spawn("git-annex-shell", ["p2pstdio", repo, CLIENT], {
        env: { ...process.env, ...ENV },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
      });
      const ch = new MessageChannel(child.stdout, child.stdin);
      const next = async (): Promise<Message | null> => {
        const m = await ch.receive();
        assert.notEqual(m?.type, "ERROR", `git-annex-shell: ${JSON.stringify(m)} ${stderr}`);
        return m;
      };
      const peer = new HttpPeer({ url: `${server.base}/`, uuid, clientUuid: CLIENT });
      try {
        assert.deepEqual(await next(), { type: "AUTH-SUCCESS", uuid });
        await ch.send({ type: "VERSION", version: 4 });
        assert.deepEqual(await next(), { type: "VERSION", version: 4 });
        await ch.send({ type: "LOCKCONTENT", key: parseKey(key) });
        assert.deepEqual(await next(), { type: "SUCCESS" });
        assert.ok(await exists(`${object}.rtm`), "stock wrote no retention timestamp");
        await dropRetention(object);

        const refused = await peer.remove(parseKey(key));
        assert.equal(refused.removed, false, "annexgate removed content stock holds locked");
        assert.ok(await exists(object), "the content is gone");

        await ch.send({ type: "UNLOCKCONTENT" });
        // The stock server handles one request at a time: its answer to the
        // next one means the lock has been let go.
        await ch.send({ type: "CHECKPRESENT", key: parseKey(key) });
        assert.deepEqual(await next(), { type: "SUCCESS" });

        const removed = await peer.remove(parseKey(key));
        assert.equal(removed.removed, true);
        assert.equal(await exists(object), false);
        assert.equal(await exists(`${object}.lck`), false, "lock file left behind");
      } finally {
        const exited = new Promise((resolve) => child.once("close", resolve));
        await ch.close();
        await exited;
        await peer.close();
      }
    },
  );
});
