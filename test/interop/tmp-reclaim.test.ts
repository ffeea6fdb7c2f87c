/**
 * Abandoned uploads' temp files, reclaimed by a running `annexgate
 * p2phttp` as an operator configured it: stock git-annex uploads are cut
 * off part way, again and again; the partial files left stay within the
 * size cap, the oldest going first; a kept one is resumed by stock
 * `git annex copy` and passes stock fsck; a partial older than the maximum
 * age (git config) is gone at start-up. The client is slowed with its own
 * `annex-bwlimit` so that a kill lands part way through (it is sent once
 * bytes are seen on the server's disk: an event, never a fixed time).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  type RunningP2pHttp,
  requestLines,
  startAnnexgate,
} from "../helpers/servers.js";

const MiB = 1024 * 1024;
const FILE_SIZE = 8 * MiB;
/** Cut each upload off once this much of it is on the server's disk. */
const KILL_AT = 3 * MiB;
const CAP = 8 * MiB;
const UPLOADS = 4;
const DAY_MS = 86_400_000;

/** Waits, bounded by count and time, until `cond` holds. */
async function until(what: string, cond: () => Promise<boolean>, boundMs = 60_000) {
  const deadline = Date.now() + boundMs;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never happened: ${what}`);
}

/** The server's temp files, name → size. */
async function partials(repo: string): Promise<Map<string, number>> {
  const dir = join(repo, ".git", "annex", "tmp");
  const found = new Map<string, number>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (st?.isFile()) found.set(name, st.size);
  }
  return found;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/**
 * Start a stock upload and kill its whole process group once `atLeast`
 * bytes of `tmpName` are on the server's disk (or when it ends by itself).
 */
async function cutOffUpload(client: string, file: string, server: string, tmpName: string) {
  const child = spawn(
    "git",
    ["-c", "remote.origin.annex-bwlimit=2MiB/s", "annex", "copy", "--to", "origin", file],
    { cwd: client, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  let ended = false;
  const exited = new Promise<void>((r) =>
    child.once("exit", () => {
      ended = true;
      r();
    }),
  );
  await until(`${KILL_AT} bytes of ${file} on the server`, async () => {
    return ended || ((await partials(server)).get(tmpName) ?? 0) >= KILL_AT;
  });
  const endedByItself = ended;
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {}
  await exited;
  assert.ok(!endedByItself, `the upload of ${file} ended by itself before it was cut off: ${err}`);
}

/** The key of an annexed file, as its temp file is named (no `/` in these keys). */
async function keyOf(client: string, file: string): Promise<string> {
  return (await run("git", ["annex", "lookupkey", file], { cwd: client })).trim();
}

describe("annexgate p2phttp reclaims abandoned uploads' temp files", { timeout: 600_000 }, () => {
  let root: string;
  let server: string;
  let client: string;
  let gate: RunningP2pHttp;
  const keys: string[] = [];

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir();
    server = await gitAnnexRepo(join(root, "srv"), "served");
    const g = (...a: string[]) => run("git", a, { cwd: server });
    await g("commit", "-q", "--allow-empty", "-m", "init");
    await g("config", "receive.denyCurrentBranch", "updateInstead");
    // The age comes from git config; the size cap's flag overrides its config.
    await g("config", "annexgate.tmp-max-age", "2d");
    await g("config", "annexgate.tmp-max-size", "1GiB");
    const tmp = join(server, ".git", "annex", "tmp");
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, "SHA256E-s100--ancient"), Buffer.alloc(100));
    const old = new Date(Date.now() - 3 * DAY_MS);
    await utimes(join(tmp, "SHA256E-s100--ancient"), old, old);
    await writeFile(join(tmp, "SHA256E-s100--recent"), Buffer.alloc(100));
    const recent = new Date(Date.now() - DAY_MS);
    await utimes(join(tmp, "SHA256E-s100--recent"), recent, recent);

    gate = await startAnnexgate(server, [
      "--wideopen",
      "--log-format",
      "json",
      "--tmp-max-size",
      "8MiB",
    ]);
    client = await annexHttpClone(server, join(root, "client"), gate.port);
    for (let i = 0; i < UPLOADS; i++) {
      await writeRandomFile(join(client, `f${i}`), FILE_SIZE);
    }
    await run("git", ["annex", "add", "--quiet", "."], { cwd: client });
    await run("git", ["commit", "-q", "-m", "files"], { cwd: client });
    for (let i = 0; i < UPLOADS; i++) keys.push(await keyOf(client, `f${i}`));
  });

  after(async () => {
    await gate?.stop();
    if (root) await removeDir(root);
  });

  test("a partial older than the maximum age is removed at start-up", async () => {
    await until("the ancient partial removed", async () => {
      return !(await partials(server)).has("SHA256E-s100--ancient");
    });
    assert.deepEqual([...(await partials(server)).keys()], ["SHA256E-s100--recent"]);
    assert.match(gate.stderr(), /reclaimed 1 abandoned partial upload/);
  });

  test("uploads cut off part way stay within the cap, oldest gone first", async () => {
    for (let i = 0; i < UPLOADS; i++) {
      await cutOffUpload(client, `f${i}`, server, keys[i] as string);
      // The server notices the cut, keeps the partial, and reclaims.
      await until(`partials within the cap after f${i}`, async () => {
        return total(await partials(server)) <= CAP;
      });
    }
    const left = await partials(server);
    assert.ok(total(left) <= CAP, `${total(left)} bytes kept, over the cap of ${CAP}`);
    // What is gone is the oldest: the uploads kept are the latest ones.
    const kept = keys.map((k) => left.has(k));
    assert.ok(kept.at(-1), "the latest partial is kept for a resume");
    assert.ok(!kept[0], "the first partial was reclaimed");
    const firstKept = kept.indexOf(true);
    assert.ok(kept.slice(firstKept).every(Boolean), `only the oldest go: ${JSON.stringify(kept)}`);
    assert.ok(!left.has("SHA256E-s100--recent"), "the older partial from before went first");
    assert.equal(gate.child.exitCode, null, "server still running");
  });

  test("a kept partial is resumed by stock git annex copy, and fsck passes", async () => {
    const last = UPLOADS - 1;
    const had = (await partials(server)).get(keys[last] as string) ?? 0;
    assert.ok(had >= KILL_AT, `the partial of f${last} is there (${had} bytes)`);
    await run("git", ["annex", "copy", "--to", "origin", `f${last}`], { cwd: client });
    assert.ok(!(await partials(server)).has(keys[last] as string), "moved into place");
    // Resumed from where it was cut off, not sent again from the start.
    const puts = requestLines(gate.stderr()).filter((l) => l.endpoint === "put");
    assert.equal(puts.at(-1)?.offset, had, "the upload resumed at the partial's size");
    const fsck = await run("git", ["annex", "fsck", "--quiet", "--in=here", "--all"], {
      cwd: server,
    });
    assert.equal(fsck.replace(/^\(recording state in git\.\.\.\)$/m, "").trim(), "");
    const whereis = await run("git", ["annex", "whereis", `f${last}`], { cwd: client });
    assert.match(whereis, /served/);
  });
});

describe("a gateway reclaims in the node repositories it opens on its own disk", {
  timeout: 300_000,
}, () => {
  let root: string;
  let gate: RunningP2pHttp;

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir();
  });
  after(async () => {
    await gate?.stop();
    if (root) await removeDir(root);
  });

  test("an old partial in a proxied node goes once the node is opened, by the node's git config", async () => {
    const solo = await gitAnnexRepo(join(root, "solo"), "solo");
    // The node's own setting: a day (the default week would keep it).
    await run("git", ["config", "annexgate.tmp-max-age", "1d"], { cwd: solo });
    const tmp = join(solo, ".git", "annex", "tmp");
    await mkdir(tmp, { recursive: true });
    const stale = join(tmp, "SHA256E-s100--stale");
    await writeFile(stale, Buffer.alloc(100));
    const old = new Date(Date.now() - 2 * DAY_MS);
    await utimes(stale, old, old);

    const gw = join(root, "gw");
    await gitAnnexRepo(gw, "gateway");
    const g = (...a: string[]) => run("git", a, { cwd: gw });
    await g("commit", "-q", "--allow-empty", "-m", "init");
    await g("remote", "add", "solo", solo);
    await g("config", "remote.solo.annex-proxy", "true");
    await run(process.execPath, [ANNEXGATE_BIN, "updateproxy"], { cwd: gw });
    gate = await startAnnexgate(gw, ["--wideopen"]);
    const client = await annexHttpClone(gw, join(root, "client"), gate.port);
    await writeRandomFile(join(client, "f"), 100_000);
    const c = (...a: string[]) => run("git", a, { cwd: client });
    await c("annex", "add", "-q", "f");
    await c("commit", "-q", "-m", "f");
    await c("annex", "sync", "-q", "--no-content");
    // The node is opened for this upload; its reclaimer starts with it.
    await c("annex", "copy", "-q", "--to", "origin-solo", "f");
    await until("the node's stale partial removed", async () => {
      return (await stat(stale).catch(() => null)) === null;
    });
    assert.match(gate.stderr(), /reclaimed 1 abandoned partial upload/);
  });
});
