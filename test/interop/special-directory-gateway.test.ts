/**
 * A directory special remote proxied by the gateway, used by stock
 * git-annex clients unchanged: made by stock `initremote`, proxied with
 * `annex-proxy` and annexgate's `updateproxy`; a client copies to, gets
 * from, drops from and `testremote`s it through `annexgate p2phttp`, and
 * another through git-annex-shell over ssh; then a second clone enables
 * the same directory remote directly and gets every object annexgate
 * stored, and the gateway serves an object stock stored directly.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { configCommand, gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, writeRandomFile } from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

let root: string;
let gw: string;
let store: string;

const git = (cwd: string, args: readonly string[], env?: Record<string, string>) =>
  run("git", args, { cwd, ...(env ? { env } : {}) });

/** Whether `git annex checkpresentkey KEY REMOTE` says present (exit 0) or absent (exit 1). */
async function present(repo: string, key: string, remote: string, env?: Record<string, string>) {
  return git(repo, ["annex", "checkpresentkey", key, remote], env).then(
    () => true,
    (e: Error) => {
      if ((e.cause as { code?: number }).code === 1) return false;
      throw e;
    },
  );
}

/** Files with random content, added and committed in `repo`; returns their keys. */
async function addFiles(repo: string, names: readonly string[], env?: Record<string, string>) {
  const sizes = [100_000, 1_500_000, 10];
  for (const [i, name] of names.entries()) {
    await writeRandomFile(join(repo, name), sizes[i % sizes.length] ?? 10);
  }
  await git(repo, ["annex", "add", "-q", ...names], env);
  await git(repo, ["commit", "-q", "-m", names.join(" ")], env);
  return Promise.all(names.map((n) => keyOf(repo, n)));
}

/** Copy, drop, get back, drop from the remote, copy again: every operation through `remote`. */
async function roundTrip(
  repo: string,
  remote: string,
  names: readonly string[],
  env?: Record<string, string>,
) {
  const keys = await addFiles(repo, names, env);
  await git(repo, ["annex", "copy", "-q", "--to", remote, ...names], env);
  for (const k of keys) assert.equal(await present(repo, k, remote, env), true, k);
  await git(repo, ["annex", "drop", "-q", ...names], env);
  await git(repo, ["annex", "get", "-q", "--from", remote, ...names], env);
  await git(repo, ["annex", "fsck", "-q", ...names], env);
  const last = names[names.length - 1] as string;
  await git(repo, ["annex", "drop", "-q", "--from", remote, last], env);
  assert.equal(await present(repo, keys[keys.length - 1] as string, remote, env), false);
  await git(repo, ["annex", "copy", "-q", "--to", remote, last], env);
  const out = await git(repo, ["annex", "testremote", "--fast", remote], env);
  assert.match(out, /All \d+ tests passed/);
}

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-directory-gateway-");
  gw = await gatewayRepo(join(root, "gw"), "gw");
  store = join(root, "store");
  await mkdir(store);
  const init = ["initremote", "-q", "d", "type=directory", `directory=${store}`, "encryption=none"];
  await git(gw, ["annex", ...init]);
  await git(gw, ["config", "remote.d.annex-proxy", "true"]);
  const out = await configCommand("annexgate", gw, ["updateproxy"]);
  assert.match(out, /Started proxying for d/);
});
after(async () => {
  await removeDir(root);
});

describe("a directory special remote proxied by annexgate", { timeout: 900_000 }, () => {
  let server: RunningP2pHttp;
  let sshd: TestSshd;
  const httpClient = () => join(root, "http-client");
  const sshClient = () => join(root, "ssh-client");

  after(async () => {
    await server?.stop();
    await sshd?.stop();
  });

  it("through p2phttp: copy, get, drop and testremote", async () => {
    server = await startAnnexgate(gw, ["--wideopen"]);
    const client = await annexHttpClone(gw, httpClient(), server.port);
    await roundTrip(client, "origin-d", ["h1", "h2", "h3"]);
  });

  it("through git-annex-shell over ssh: copy, get, drop and testremote", async () => {
    sshd = await startSshd("annexgate");
    const env = sshd.clientEnv();
    const client = sshClient();
    await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client], { env });
    for (const [k, v] of clientGitConfig) await git(client, ["config", k, v], env);
    await git(client, ["annex", "init", "-q", "ssh client"], env);
    await roundTrip(client, "origin-d", ["s1", "s2", "s3"], env);
    assert.ok((await sshd.logins()).some((l) => l.startsWith("annexgate ")));
  });

  it("a second clone enables the directory remote directly and gets every object", async () => {
    const second = join(root, "second");
    await git(root, ["clone", "-q", httpClient(), second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["remote", "add", "sshclient", sshClient()]);
    await git(second, ["fetch", "-q", "sshclient"]);
    await git(second, ["merge", "-q", "--no-edit", "sshclient/master"]);
    await git(second, ["annex", "enableremote", "d", `directory=${store}`]);
    const files = ["h1", "h2", "h3", "s1", "s2", "s3"];
    await git(second, ["annex", "get", "-q", "--from", "d", ...files]);
    await git(second, ["annex", "fsck", "-q", ...files]);
    await git(second, ["annex", "fsck", "-q", "--fast", "--from", "d", ...files]);
    // What stock stores directly, the gateway serves.
    const [key] = await addFiles(second, ["direct"]);
    await git(second, ["annex", "copy", "-q", "--to", "d", "direct"]);
    const client = httpClient();
    await git(client, ["remote", "add", "second", second]);
    await git(client, ["fetch", "-q", "second"]);
    await git(client, ["merge", "-q", "--no-edit", "second/master"]);
    assert.equal(await present(client, key as string, "origin-d"), true);
    await git(client, ["annex", "get", "-q", "--from", "origin-d", "direct"]);
    await git(client, ["annex", "fsck", "-q", "direct"]);
  });
});
