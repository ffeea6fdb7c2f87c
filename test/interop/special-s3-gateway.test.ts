/**
 * An S3 special remote (stock `initremote` on s3rver, on loopback) proxied
 * by the gateway: a stock client copies to, gets from, drops from and
 * `testremote`s it through `annexgate p2phttp`, the gateway using the
 * credentials stock cached for the remote; then a second clone enables
 * the same S3 remote directly and gets every object annexgate stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { configCommand, gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, writeRandomFile } from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  S3RVER_ENV,
  startS3Server,
} from "../helpers/s3-server.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const git = (cwd: string, args: readonly string[], env?: Record<string, string>) =>
  run("git", args, { cwd, ...(env ? { env } : {}) });

async function present(repo: string, key: string, remote: string): Promise<boolean> {
  return git(repo, ["annex", "checkpresentkey", key, remote]).then(
    () => true,
    (e: Error) => {
      if ((e.cause as { code?: number }).code === 1) return false;
      throw e;
    },
  );
}

describe("an S3 special remote proxied by annexgate", { timeout: 900_000 }, () => {
  let root: string;
  let s3: RunningS3Server;
  let server: RunningP2pHttp;
  let gw: string;
  let client: string;

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-s3-gateway-");
    s3 = await startS3Server();
    gw = await gatewayRepo(join(root, "gw"), "gw");
    await initStockS3Remote(gw, s3, "s", "annexgate-gw");
    await git(gw, ["config", "remote.s.annex-proxy", "true"]);
    assert.match(await configCommand("annexgate", gw, ["updateproxy"]), /Started proxying for s/);
    // No credentials in the server's environment: it reads the ones stock cached.
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
  });
  after(async () => {
    await server?.stop();
    await s3?.close();
    await removeDir(root);
  });

  it("copy, get, drop and testremote through p2phttp", async () => {
    const names = ["a", "b", "c"];
    const sizes = [100_000, 2_000_000, 10];
    for (const [i, n] of names.entries()) await writeRandomFile(join(client, n), sizes[i] ?? 1);
    await git(client, ["annex", "add", "-q", ...names]);
    await git(client, ["commit", "-q", "-m", "files"]);
    const keys = await Promise.all(names.map((n) => keyOf(client, n)));
    await git(client, ["annex", "copy", "-q", "--to", "origin-s", ...names]);
    for (const k of keys) assert.equal(await present(client, k, "origin-s"), true, k);
    await git(client, ["annex", "drop", "-q", ...names]);
    await git(client, ["annex", "get", "-q", "--from", "origin-s", ...names]);
    await git(client, ["annex", "fsck", "-q", ...names]);
    await git(client, ["annex", "drop", "-q", "--from", "origin-s", "c"]);
    assert.equal(await present(client, keys[2] as string, "origin-s"), false);
    await git(client, ["annex", "copy", "-q", "--to", "origin-s", "c"]);
    const out = await git(client, ["annex", "testremote", "--fast", "origin-s"]);
    assert.match(out, /All \d+ tests passed/);
  });

  it("a second clone enables the S3 remote directly and gets every object", async () => {
    const second = join(root, "second");
    await git(root, ["clone", "-q", client, second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["config", "annex.security.allowed-ip-addresses", "all"]);
    await git(second, ["annex", "enableremote", "s"], S3RVER_ENV);
    await git(second, ["annex", "get", "-q", "--from", "s", "a", "b", "c"], S3RVER_ENV);
    await git(second, ["annex", "fsck", "-q", "a", "b", "c"]);
    await git(second, ["annex", "fsck", "-q", "--from", "s", "a", "b", "c"], S3RVER_ENV);
  });
});
