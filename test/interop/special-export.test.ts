/**
 * Export special remotes (`exporttree=yes annexobjects=yes`) proxied by
 * the gateway, a directory remote and an S3 remote (s3rver on loopback):
 * stock `git annex export`ed a small tree to each; a stock client through
 * `annexgate p2phttp` gets an exported file, copies a new key (it goes to
 * annexobjects, where a stock clone enabling the remote directly gets it),
 * cannot drop an exported key (git-annex's message, in the p2phttp answer
 * and in git-annex-shell's ERROR; the file stays) and
 * drops an annexobjects-only key. A tree exported while the gateway serves
 * is seen at once (stock's p2phttp keeps a stale export database).
 * updateproxy refuses an export remote without annexobjects=yes with
 * stock's warning. One setup; each case runs on both remotes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, runOutcome } from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  S3RVER_ENV,
  s3AdminClient,
  startS3Server,
} from "../helpers/s3-server.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
} from "../helpers/servers.js";
import { ANNEXGATE_GIT_ANNEX_SHELL } from "../helpers/sshd.js";

let root: string;
let gw: string;
let client: string;
let server: RunningP2pHttp;
let s3: RunningS3Server;
let admin: S3Client;

const git = (cwd: string, args: readonly string[], env?: Record<string, string>) =>
  run("git", args, { cwd, ...(env ? { env } : {}) });

/** Exit status, stdout and stderr of a command that may fail. */
const outcome = (cmd: string, args: readonly string[], cwd: string) =>
  runOutcome(cmd, args, { cwd });

async function present(repo: string, key: string, remote: string): Promise<boolean> {
  const r = await outcome("git", ["annex", "checkpresentkey", key, remote], repo);
  if (r.code > 1) throw new Error(`checkpresentkey failed: ${r.stderr}`);
  return r.code === 0;
}

/** An export remote under test: its name on the gateway and how to read its files directly. */
interface Target {
  readonly name: string;
  /** The file at `path` on the remote (the tree's layout), or null when absent. */
  file(path: string): Promise<string | null>;
}

const directoryTarget = (): Target => ({
  name: "ex",
  file: (path) => readFile(join(root, "store", path), "utf8").catch(() => null),
});

const s3Target = (): Target => ({
  name: "exs3",
  async file(path) {
    try {
      const got = await admin.send(new GetObjectCommand({ Bucket: "annexgate-export", Key: path }));
      return (await got.Body?.transformToString()) ?? null;
    } catch {
      return null;
    }
  },
});

let targets: Target[] = [];

/** The annexobjects path of `key` on an export remote. */
async function annexObjectPath(repo: string, key: string): Promise<string> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: git-annex's format variable
  const format = "--format=${hashdirlower}";
  const hash = (await git(repo, ["annex", "examinekey", format, key])).trim();
  return `.git/annex/objects/${hash}${key}/${key}`;
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

/** A remove of `key` from the export remote `name` over the p2phttp API itself. */
async function removeOverApi(name: string, key: string): Promise<{ status: number; body: string }> {
  const uuid = (await git(gw, ["config", `remote.${name}.annex-uuid`])).trim();
  const q = new URLSearchParams({ key, clientuuid: "a8b3a8f4-6a4c-4c83-9b0c-2f2a4d1c9e77" });
  const res = await fetch(`http://127.0.0.1:${server.port}/git-annex/${uuid}/v4/remove?${q}`, {
    method: "POST",
  });
  return { status: res.status, body: await res.text() };
}

/**
 * What annexgate's git-annex-shell (what sshd runs for a client) answers
 * a REMOVE of `key` from the export remote `name`: the line after VERSION.
 */
async function removeOverShell(name: string, key: string): Promise<string> {
  const uuid = (await git(gw, ["config", `remote.${name}.annex-uuid`])).trim();
  const client = "a8b3a8f4-6a4c-4c83-9b0c-2f2a4d1c9e77";
  const child = spawn(ANNEXGATE_GIT_ANNEX_SHELL, ["p2pstdio", gw, client, "--uuid", uuid], {
    env: { ...process.env, ANNEXGATE_NODE: process.execPath },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d;
  });
  child.stdin.end(`VERSION 1\nREMOVE ${key}\n`);
  await new Promise((resolve) => child.once("close", resolve));
  return out.split("\n")[2] ?? "";
}

const NO_ANNEXOBJECTS_WARNING =
  "plain is a special remote configured with exporttree=yes, but without annexobjects=yes. Cannot proxy to this remote. Suggest you run: git-annex enableremote plain annexobjects=yes";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-special-export-");
  s3 = await startS3Server();
  admin = s3AdminClient(s3);
  gw = await gatewayRepo(join(root, "gw"), "gw");
  await mkdir(join(root, "store"));
  await mkdir(join(root, "plain-store"));
  await addFile(gw, "a.txt", "exported a\n");
  await addFile(gw, "sub/b.txt", "exported b\n");
  const init = ["annex", "initremote", "-q"];
  const exportFields = ["exporttree=yes", "annexobjects=yes", "encryption=none"];
  await git(gw, [
    ...init,
    "ex",
    "type=directory",
    `directory=${join(root, "store")}`,
    ...exportFields,
  ]);
  await initStockS3Remote(gw, s3, "exs3", "annexgate-export", [
    "exporttree=yes",
    "annexobjects=yes",
  ]);
  await git(gw, [
    ...init,
    "plain",
    "type=directory",
    `directory=${join(root, "plain-store")}`,
    "exporttree=yes",
    "encryption=none",
  ]);
  targets = [directoryTarget(), s3Target()];
  for (const t of targets) {
    await git(gw, ["annex", "export", "-q", "master", "--to", t.name], S3RVER_ENV);
    await git(gw, ["config", `remote.${t.name}.annex-proxy`, "true"]);
  }
  await git(gw, ["config", "remote.plain.annex-proxy", "true"]);
});
after(async () => {
  await server?.stop();
  admin?.destroy();
  await s3?.close();
  if (root !== undefined) await removeDir(root);
});

describe("export remotes proxied by annexgate (directory, S3)", { timeout: 120_000 }, () => {
  it("updateproxy proxies them, and refuses exporttree=yes without annexobjects=yes as stock does", async () => {
    const ours = await outcome(process.execPath, [ANNEXGATE_BIN, "updateproxy"], gw);
    assert.equal(ours.code, 0, ours.stderr);
    for (const t of targets)
      assert.match(ours.stdout, new RegExp(`Started proxying for ${t.name}\\b`));
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
    // One file from each remote.
    await git(client, ["annex", "get", "-q", "--from", "origin-ex", "a.txt"]);
    await git(client, ["annex", "get", "-q", "--from", "origin-exs3", "sub/b.txt"]);
    await git(client, ["annex", "fsck", "-q", "a.txt", "sub/b.txt"]);
    assert.equal(await readFile(join(client, "sub/b.txt"), "utf8"), "exported b\n");
  });

  it("a new key goes to annexobjects, where a stock clone enabling the remote gets it", async () => {
    const key = await addFile(client, "c.txt", "new content c\n");
    for (const t of targets) {
      await git(client, ["annex", "copy", "-q", "--to", `origin-${t.name}`, "c.txt"]);
      assert.equal(await present(client, key, `origin-${t.name}`), true, t.name);
      assert.equal(await t.file(await annexObjectPath(client, key)), "new content c\n", t.name);
      assert.equal(await t.file("c.txt"), null, t.name);
    }
    const second = join(root, "second");
    await git(root, ["clone", "-q", client, second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["config", "annex.security.allowed-ip-addresses", "all"]);
    await git(second, ["annex", "enableremote", "ex", `directory=${join(root, "store")}`]);
    await git(second, ["annex", "enableremote", "exs3"], S3RVER_ENV);
    for (const t of targets) {
      await git(second, ["annex", "get", "-q", "--from", t.name, "c.txt"], S3RVER_ENV);
      await git(second, ["annex", "fsck", "-q", "c.txt"]);
      await git(second, ["annex", "drop", "-q", "--force", "c.txt"]);
    }
  });

  it("a drop of an exported key is refused with git-annex's message, and the file stays", async () => {
    const key = await keyOf(client, "a.txt");
    for (const t of targets) {
      const r = await outcome(
        "git",
        ["annex", "drop", "--from", `origin-${t.name}`, "a.txt"],
        client,
      );
      assert.notEqual(r.code, 0, t.name);
      // A stock client shows only the status of a failed p2phttp request
      // (so it does with stock's p2phttp); the answer carries the message.
      assert.match(r.stderr, /500 Internal Server Error/);
      assert.deepEqual(await removeOverApi(t.name, key), {
        status: 500,
        body: EXPORTED_KEY_MESSAGE,
      });
      // Over ssh, the ERROR that stock's client shows carries it.
      assert.equal(await removeOverShell(t.name, key), `ERROR ${EXPORTED_KEY_MESSAGE}`);
      assert.equal(await t.file("a.txt"), "exported a\n", t.name);
      assert.equal(await present(client, key, `origin-${t.name}`), true, t.name);
    }
  });

  it("a drop of an annexobjects-only key works", async () => {
    const key = await keyOf(client, "c.txt");
    const path = await annexObjectPath(client, key);
    for (const t of targets) {
      await git(client, ["annex", "drop", "-q", "--from", `origin-${t.name}`, "c.txt"]);
      assert.equal(await t.file(path), null, t.name);
      assert.equal(await present(client, key, `origin-${t.name}`), false, t.name);
    }
    assert.equal(await exists(join(root, "store", ".git")), false, "emptied directories go too");
  });

  it("a tree exported while the gateway serves is seen at once: its keys cannot be dropped", async () => {
    const key = await addFile(gw, "d.txt", "exported later d\n");
    for (const t of targets) {
      await git(gw, ["annex", "copy", "-q", "--to", t.name, "d.txt"]);
      // The gateway looks the key up before the new export: in annexobjects.
      assert.equal(await present(client, key, `origin-${t.name}`), true, t.name);
      await git(gw, ["annex", "export", "-q", "master", "--to", t.name]);
      assert.equal(await t.file("d.txt"), "exported later d\n", t.name);
      const drop = ["annex", "drop", "--force", "--from", `origin-${t.name}`, "--key", key];
      assert.notEqual((await outcome("git", drop, client)).code, 0, t.name);
      assert.deepEqual(await removeOverApi(t.name, key), {
        status: 500,
        body: EXPORTED_KEY_MESSAGE,
      });
      assert.equal(await t.file("d.txt"), "exported later d\n", t.name);
      assert.equal(await present(client, key, `origin-${t.name}`), true, t.name);
    }
  });
});
