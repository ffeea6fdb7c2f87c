/**
 * An export special remote (directory, `exporttree=yes annexobjects=yes`)
 * proxied by the gateway: stock `git annex export`ed a small tree to it;
 * a stock client through `annexgate p2phttp` gets an exported file, copies
 * a new key (it goes to annexobjects, where a stock clone enabling the
 * remote directly gets it), cannot drop an exported key (git-annex's
 * message, the file stays) and drops an annexobjects-only key. A tree
 * exported while the gateway serves is seen at once (stock's p2phttp keeps
 * a stale export database). updateproxy refuses an export remote without
 * annexobjects=yes with stock's warning.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
} from "../helpers/servers.js";

let root: string;
let gw: string;
let store: string;
let client: string;
let server: RunningP2pHttp;

const git = (cwd: string, args: readonly string[]) => run("git", args, { cwd });

/** Exit status, stdout and stderr of a command that may fail. */
function outcome(
  cmd: string,
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function present(repo: string, key: string, remote: string): Promise<boolean> {
  const r = await outcome("git", ["annex", "checkpresentkey", key, remote], repo);
  if (r.code > 1) throw new Error(`checkpresentkey failed: ${r.stderr}`);
  return r.code === 0;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** The annexobjects copy of `key` on the directory remote. */
async function annexObjectFile(repo: string, key: string): Promise<string> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: git-annex's format variable
  const format = "--format=${hashdirlower}";
  const hash = (await git(repo, ["annex", "examinekey", format, key])).trim();
  return join(store, ".git", "annex", "objects", hash, key, key);
}

async function addFile(repo: string, name: string, content: string): Promise<string> {
  await mkdir(join(repo, name, ".."), { recursive: true });
  await run("sh", ["-c", `printf '%s' "$1" > "$2"`, "sh", content, join(repo, name)]);
  await git(repo, ["annex", "add", "-q", name]);
  await git(repo, ["commit", "-q", "-m", name]);
  return keyOf(repo, name);
}

const EXPORTED_KEY_MESSAGE =
  "This key is part of the exported tree, so can only be removed by exporting a tree that does not include it.";

/** A remove of `key` from the export remote over the p2phttp API itself. */
async function removeOverApi(key: string): Promise<{ status: number; body: string }> {
  const uuid = (await git(gw, ["config", "remote.ex.annex-uuid"])).trim();
  const q = new URLSearchParams({ key, clientuuid: "a8b3a8f4-6a4c-4c83-9b0c-2f2a4d1c9e77" });
  const res = await fetch(`http://127.0.0.1:${server.port}/git-annex/${uuid}/v4/remove?${q}`, {
    method: "POST",
  });
  return { status: res.status, body: await res.text() };
}

const NO_ANNEXOBJECTS_WARNING =
  "plain is a special remote configured with exporttree=yes, but without annexobjects=yes. Cannot proxy to this remote. Suggest you run: git-annex enableremote plain annexobjects=yes";

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-special-export-");
  gw = await gatewayRepo(join(root, "gw"), "gw");
  store = join(root, "store");
  await mkdir(store);
  await mkdir(join(root, "plain-store"));
  await addFile(gw, "a.txt", "exported a\n");
  await addFile(gw, "sub/b.txt", "exported b\n");
  const init = ["annex", "initremote", "-q"];
  await git(gw, [
    ...init,
    "ex",
    "type=directory",
    `directory=${store}`,
    "exporttree=yes",
    "annexobjects=yes",
    "encryption=none",
  ]);
  await git(gw, [
    ...init,
    "plain",
    "type=directory",
    `directory=${join(root, "plain-store")}`,
    "exporttree=yes",
    "encryption=none",
  ]);
  await git(gw, ["annex", "export", "-q", "master", "--to", "ex"]);
  await git(gw, ["config", "remote.ex.annex-proxy", "true"]);
  await git(gw, ["config", "remote.plain.annex-proxy", "true"]);
});
after(async () => {
  await server?.stop();
  if (root !== undefined) await removeDir(root);
});

describe("an export directory remote proxied by annexgate", { timeout: 120_000 }, () => {
  it("updateproxy proxies it, and refuses exporttree=yes without annexobjects=yes as stock does", async () => {
    const ours = await outcome(process.execPath, [ANNEXGATE_BIN, "updateproxy"], gw);
    assert.equal(ours.code, 0, ours.stderr);
    assert.match(ours.stdout, /Started proxying for ex/);
    assert.doesNotMatch(ours.stdout, /proxying for plain/);
    assert.ok(ours.stderr.includes(NO_ANNEXOBJECTS_WARNING), ours.stderr);
    // Stock, on the same configuration, warns in the same words.
    const stock = await outcome("git", ["annex", "updateproxy"], gw);
    assert.equal(stock.code, 0, stock.stderr);
    assert.ok(stock.stderr.includes(NO_ANNEXOBJECTS_WARNING), stock.stderr);
    assert.match(stock.stdout, /No proxy changes to record/);
  });

  it("a client gets an exported file through the gateway", async () => {
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    await git(client, ["annex", "get", "-q", "--from", "origin-ex", "a.txt", "sub/b.txt"]);
    await git(client, ["annex", "fsck", "-q", "a.txt", "sub/b.txt"]);
    assert.equal(await readFile(join(client, "sub/b.txt"), "utf8"), "exported b\n");
  });

  it("a new key goes to annexobjects, where a stock clone enabling the remote gets it", async () => {
    const key = await addFile(client, "c.txt", "new content c\n");
    await git(client, ["annex", "copy", "-q", "--to", "origin-ex", "c.txt"]);
    assert.equal(await present(client, key, "origin-ex"), true);
    assert.equal(await readFile(await annexObjectFile(client, key), "utf8"), "new content c\n");
    assert.equal(await exists(join(store, "c.txt")), false);
    const second = join(root, "second");
    await git(root, ["clone", "-q", client, second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["annex", "enableremote", "ex", `directory=${store}`]);
    await git(second, ["annex", "get", "-q", "--from", "ex", "c.txt", "a.txt"]);
    await git(second, ["annex", "fsck", "-q", "c.txt", "a.txt"]);
  });

  it("a drop of an exported key is refused with git-annex's message, and the file stays", async () => {
    const key = await keyOf(client, "a.txt");
    const r = await outcome("git", ["annex", "drop", "--from", "origin-ex", "a.txt"], client);
    assert.notEqual(r.code, 0);
    // A stock client shows only the status of a failed p2phttp request
    // (so it does with stock's p2phttp); the answer carries the message.
    assert.match(r.stderr, /500 Internal Server Error/);
    assert.deepEqual(await removeOverApi(key), { status: 500, body: EXPORTED_KEY_MESSAGE });
    assert.equal(await readFile(join(store, "a.txt"), "utf8"), "exported a\n");
    assert.equal(await present(client, key, "origin-ex"), true);
  });

  it("a drop of an annexobjects-only key works", async () => {
    const key = await keyOf(client, "c.txt");
    const file = await annexObjectFile(client, key);
    await git(client, ["annex", "drop", "-q", "--from", "origin-ex", "c.txt"]);
    assert.equal(await exists(file), false);
    assert.equal(await present(client, key, "origin-ex"), false);
  });

  it("a tree exported while the gateway serves is seen at once: its keys cannot be dropped", async () => {
    const key = await addFile(gw, "d.txt", "exported later d\n");
    await git(gw, ["annex", "copy", "-q", "--to", "ex", "d.txt"]);
    // The gateway looks the key up before the new export: in annexobjects.
    assert.equal(await present(client, key, "origin-ex"), true);
    await git(gw, ["annex", "export", "-q", "master", "--to", "ex"]);
    assert.equal(await readFile(join(store, "d.txt"), "utf8"), "exported later d\n");
    const r = await outcome(
      "git",
      ["annex", "drop", "--force", "--from", "origin-ex", "--key", key],
      client,
    );
    assert.notEqual(r.code, 0);
    assert.deepEqual(await removeOverApi(key), { status: 500, body: EXPORTED_KEY_MESSAGE });
    assert.equal(await readFile(join(store, "d.txt"), "utf8"), "exported later d\n");
    assert.equal(await present(client, key, "origin-ex"), true);
  });
});
