/**
 * A chunked directory special remote (`chunk=64KiB`) proxied by
 * `annexgate p2phttp`, used by stock git-annex unchanged: a stock client
 * copies through the gateway, which stores git-annex's chunk keys and
 * writes the chunk log (`.log.cnk`) on its branch; a stock clone enables
 * the directory remote directly and gets and fscks what annexgate stored;
 * what stock stores chunked directly, annexgate serves; a drop through
 * the gateway removes every chunk and logs them removed; content that is
 * not its key's leaves no chunk and no log entry.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { configCommand, gatewayRepo, keyOf } from "../helpers/cluster.js";
import {
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const CHUNK = 65536;

let root: string;
let gw: string;
let store: string;
let uuid: string;
let server: RunningP2pHttp;
let client: string;

const git = (cwd: string, args: readonly string[]) => run("git", args, { cwd });

/** The chunk files of `key` in the directory remote, by chunk number. */
async function chunkFiles(key: string): Promise<string[]> {
  const [head, name] = key.split("--") as [string, string];
  const all = await readdir(store, { recursive: true, withFileTypes: true });
  return all
    .filter((e) => e.isFile() && e.name.startsWith(`${head}-S`) && e.name.endsWith(`--${name}`))
    .map((e) => e.name)
    .sort();
}

/** `<key>` cut into chunk keys of CHUNK bytes, as stock names them. */
function expectedChunks(key: string, count: number): string[] {
  const [head, name] = key.split("--") as [string, string];
  return Array.from({ length: count }, (_, i) => `${head}-S${CHUNK}-C${i + 1}--${name}`).sort();
}

/** The gateway's chunk log for `key`, as stock reads it (branch and journal). */
async function chunkLogOf(key: string): Promise<string> {
  const hashdir = (
    await git(gw, ["annex", "examinekey", key, `--format=${"$"}{hashdirlower}`])
  ).trim();
  return readBranchFile(`${hashdir}${key}.log.cnk`);
}

/** A file on the gateway's git-annex branch, once annexgate has committed it. */
async function readBranchFile(path: string): Promise<string> {
  return waitFor(`${path} on the gateway's branch`, async () =>
    git(gw, ["show", `git-annex:${path}`]).catch(() => null),
  );
}

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-chunked-");
  gw = await gatewayRepo(join(root, "gw"), "gw");
  store = join(root, "store");
  await mkdir(store);
  await git(gw, [
    "annex",
    "initremote",
    "-q",
    "d",
    "type=directory",
    `directory=${store}`,
    "encryption=none",
    "chunk=64KiB",
  ]);
  await git(gw, ["config", "remote.d.annex-proxy", "true"]);
  assert.match(await configCommand("annexgate", gw, ["updateproxy"]), /Started proxying for d/);
  uuid = (await git(gw, ["config", "remote.d.annex-uuid"])).trim();
  server = await startAnnexgate(gw, ["--wideopen", "--commit-delay", "100"]);
  client = await annexHttpClone(gw, join(root, "client"), server.port);
  await git(client, ["annex", "sync", "-q", "--no-content"]);
});
after(async () => {
  await server?.stop();
  await removeDir(root);
});

describe("a chunked directory remote proxied by annexgate", { timeout: 120_000 }, () => {
  const files: Record<string, number> = { big1: 200_000, big2: 204_800, small: 1000 };
  const keys: Record<string, string> = {};

  it("a stock client copies through the gateway: chunk keys and the chunk log as stock writes them", async () => {
    for (const [name, size] of Object.entries(files)) {
      await writeRandomFile(join(client, name), size);
    }
    await git(client, ["annex", "add", "-q", ...Object.keys(files)]);
    await git(client, ["commit", "-q", "-m", "files"]);
    for (const name of Object.keys(files)) keys[name] = await keyOf(client, name);
    await git(client, ["annex", "copy", "-q", "--to", "origin-d", ...Object.keys(files)]);
    for (const [name, size] of Object.entries(files)) {
      const key = keys[name] as string;
      const count = Math.max(1, Math.ceil(size / CHUNK));
      assert.deepEqual(await chunkFiles(key), expectedChunks(key, count), name);
      assert.match(await chunkLogOf(key), new RegExp(`^\\d+s ${uuid}:${CHUNK} ${count}\\n$`), name);
    }
    const whereis = await git(client, ["annex", "whereis", "big1"]);
    assert.match(whereis, /origin-d/);
  });

  it("a stock clone enables the directory remote directly, gets and fscks every object", async () => {
    await git(client, ["annex", "sync", "-q", "--no-content"]);
    const second = join(root, "second");
    await git(root, ["clone", "-q", client, second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["annex", "enableremote", "d", `directory=${store}`]);
    const names = Object.keys(files);
    const whereis = await git(second, ["annex", "whereis", ...names]);
    assert.equal(whereis.match(/-- \[d\]/g)?.length, names.length, whereis);
    await git(second, ["annex", "get", "-q", "--from", "d", ...names]);
    await git(second, ["annex", "fsck", "-q", ...names]);
    await git(second, ["annex", "fsck", "-q", "--from", "d", ...names]);

    // What stock stores chunked directly, the gateway serves.
    await writeRandomFile(join(second, "direct"), 150_000);
    await git(second, ["annex", "add", "-q", "direct"]);
    await git(second, ["commit", "-q", "-m", "direct"]);
    await git(second, ["annex", "copy", "-q", "--to", "d", "direct"]);
    const key = await keyOf(second, "direct");
    assert.deepEqual(await chunkFiles(key), expectedChunks(key, 3));
    await git(client, ["remote", "add", "second", second]);
    await git(client, ["fetch", "-q", "second"]);
    await git(client, ["merge", "-q", "--no-edit", "second/master"]);
    await git(client, ["annex", "get", "-q", "--from", "origin-d", "direct"]);
    await git(client, ["annex", "fsck", "-q", "direct"]);
  });

  it("a drop through the gateway removes every chunk and logs them removed", async () => {
    const key = keys.big1 as string;
    await git(client, ["annex", "drop", "-q", "--from", "origin-d", "big1"]);
    assert.deepEqual(await chunkFiles(key), []);
    await waitFor("the chunk log's removal committed", async () =>
      new RegExp(`^\\d+s ${uuid}:${CHUNK} 0\\n$`).test(await chunkLogOf(key)) ? true : null,
    );
    const whereis = await git(client, ["annex", "whereis", "big1"]);
    assert.doesNotMatch(whereis, /origin-d/);
  });

  it("content that is not its key's leaves no chunk and no chunk log entry", async () => {
    const data = randomBytes(150_000);
    const key = `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}.bin`;
    const url = `http://127.0.0.1:${server.port}/git-annex/${uuid}/v4/put?${new URLSearchParams({
      clientuuid: "a8b3a8f4-6a4c-4c83-9b0c-2f2a4d1c9e77",
      key,
    })}`;
    const res = await fetch(url, {
      method: "POST",
      body: randomBytes(data.length),
      headers: { "X-git-annex-data-length": String(data.length) },
    });
    assert.equal(((await res.json()) as { stored?: boolean }).stored, false);
    assert.deepEqual(await chunkFiles(key), []);
    const hashdir = (
      await git(gw, ["annex", "examinekey", key, `--format=${"$"}{hashdirlower}`])
    ).trim();
    await assert.rejects(git(gw, ["show", `git-annex:${hashdir}${key}.log.cnk`]));
  });
});
