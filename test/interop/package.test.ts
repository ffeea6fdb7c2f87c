/**
 * annexgate as an operator installs it: `npm pack` of this checkout, then
 * `npm install` of the tarball in a clean directory (packages from npm's
 * cache, as the suite's own `npm ci` left them). The installed `annexgate`
 * serves a repository to a stock client over p2phttp, and the installed
 * `git-annex-shell`, named in an sshd `command=`, serves it over ssh.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { CHECKOUT, installPackedCheckout } from "../helpers/package.js";
import { annexHttpClone, startAnnexgateCommand } from "../helpers/servers.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

/**
 * A new file of `size` random bytes in `client`: added, copied to origin,
 * dropped here and got back, the same bytes.
 */
async function roundTrip(
  client: string,
  name: string,
  size: number,
  env?: Record<string, string>,
): Promise<void> {
  const git = (...a: string[]) => run("git", a, { cwd: client, ...(env ? { env } : {}) });
  const data = randomBytes(size);
  await writeFile(join(client, name), data);
  await git("annex", "add", "-q", name);
  await git("commit", "-q", "-m", name);
  await git("annex", "copy", "-q", "--to", "origin", name);
  await git("annex", "drop", "-q", name);
  await git("annex", "get", "-q", "--from", "origin", name);
  assert.deepEqual(await readFile(join(client, name)), data);
}

describe("the npm package, installed in a clean directory", { timeout: 600_000 }, () => {
  let dir: string;
  let bin: string;
  let sshd: TestSshd | undefined;

  before(async () => {
    dir = await makeTempDir("annexgate-package-");
    const app = await installPackedCheckout(dir, "an-operator");
    bin = join(app, "node_modules", ".bin");
  });
  after(async () => {
    await sshd?.stop();
    await removeDir(dir);
  });

  it("gives an annexgate that says its version and holds no test files", async () => {
    const version = (await run(join(bin, "annexgate"), ["--version"])).trim();
    const pkg = JSON.parse(await readFile(join(CHECKOUT, "package.json"), "utf8")) as {
      version: string;
    };
    assert.ok(version.includes(pkg.version), version);
    const files = await run("find", [
      join(dir, "app", "node_modules", "annexgate"),
      "-name",
      "*.test.js",
    ]);
    assert.equal(files.trim(), "", "tests are not shipped");
  });

  it("the installed annexgate p2phttp serves a stock client: copy, drop, get", async () => {
    const repo = join(dir, "served");
    await gitAnnexRepo(repo, "served");
    await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: repo });
    const server = await startAnnexgateCommand([join(bin, "annexgate")], repo, ["--wideopen"]);
    try {
      const client = await annexHttpClone(repo, join(dir, "client"), server.port);
      await roundTrip(client, "f", 3 * 1024 * 1024 + 5);
      assert.match(server.stderr(), /INFO: request .*"endpoint":"put".*"status":200/);
    } finally {
      await server.stop();
    }
  });

  it("the installed git-annex-shell serves a stock client over ssh", async () => {
    const started = await startSshd("annexgate");
    sshd = started;
    await started.useShell("annexgate", {}, join(bin, "git-annex-shell"));
    const repo = join(dir, "over-ssh");
    await gitAnnexRepo(repo, "over-ssh");
    await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: repo });
    const client = join(dir, "ssh-client");
    const env = started.clientEnv();
    await run("git", ["clone", "-q", `${started.host}:${repo}`, client], { env });
    const git = (...a: string[]) => run("git", a, { cwd: client, env });
    for (const [k, v] of clientGitConfig) await git("config", k, v);
    await git("annex", "init", "-q", "ssh-client");
    await roundTrip(client, "g", 1024 * 1024 + 3, env);
    const logins = await started.logins();
    assert.ok(
      logins.some((l) => /p2pstdio/.test(l)),
      logins.join("\n"),
    );
  });
});
