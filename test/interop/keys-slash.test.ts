/**
 * Keys containing "/", made by stock commands: URL keys from
 * `git annex addurl --relaxed` of a URL served by this test, and WORM keys
 * of files in subdirectories. A stock client copies them to annexgate's
 * gateway itself, to a node it proxies and to a cluster, over p2phttp and
 * over a real sshd, then gets them back; stock `git annex fsck` passes in
 * every repository that holds them (git-annex finds them where its
 * keyFile escaping puts them).
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addNodes, configCommand, gatewayRepo, initCluster, keyOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

const TARGETS = ["origin", "origin-solo", "origin-mycluster"] as const;

/** Where a target's copies land: the gateway, the proxied node, either cluster node. */
const HOLDERS: Readonly<Record<(typeof TARGETS)[number], readonly string[]>> = {
  origin: ["gw"],
  "origin-solo": ["solo"],
  "origin-mycluster": ["c1", "c2"],
};

describe('keys with "/" through annexgate, over HTTP and ssh', { timeout: 900_000 }, () => {
  let root = "";
  let gw = "";
  let server: RunningP2pHttp | undefined;
  let sshd: TestSshd | undefined;
  let web: Server | undefined;
  let webPort = 0;

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-keys-slash-");
    for (const n of ["solo", "c1", "c2"]) await gitAnnexRepo(join(root, n), n);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    await addNodes(gw, "mycluster", [
      { name: "c1", url: join(root, "c1") },
      { name: "c2", url: join(root, "c2") },
    ]);
    await initCluster("annexgate", gw, "mycluster");
    await run("git", ["remote", "add", "solo", join(root, "solo")], { cwd: gw });
    await run("git", ["config", "remote.solo.annex-proxy", "true"], { cwd: gw });
    await configCommand("annexgate", gw, ["updateproxy"]);
    server = await startAnnexgate(gw, ["--wideopen"]);
    sshd = await startSshd("annexgate");
    // The web server addurl fetches from: the path is the body, so each URL's content differs.
    web = createServer((req, res) => res.end(`content of ${req.url}\n`));
    await new Promise<void>((r) => web?.listen(0, "127.0.0.1", () => r()));
    const a = web.address();
    webPort = typeof a === "object" && a !== null ? a.port : 0;
  });

  after(async () => {
    await server?.stop();
    await sshd?.stop();
    await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
    if (root !== "") await removeDir(root);
  });

  /** In `client`: a URL key and a WORM key of a file two directories down. */
  async function makeSlashKeys(client: string, env: Record<string, string>, tag: string) {
    const git = (...a: string[]) => run("git", a, { cwd: client, env });
    const url = `http://127.0.0.1:${webPort}/${tag}/dir/a&b%20c:d.txt`;
    await git("annex", "addurl", "--relaxed", "--file", `${tag}-url.txt`, url);
    await git("annex", "get", "-q", `${tag}-url.txt`);
    await mkdir(join(client, tag, "sub"), { recursive: true });
    await writeFile(join(client, tag, "sub", "w.txt"), `worm content ${tag}\n`);
    await git("annex", "add", "-q", "--backend=WORM", `${tag}/sub/w.txt`);
    await git("commit", "-q", "-m", `keys with slashes (${tag})`);
    const files = [`${tag}-url.txt`, `${tag}/sub/w.txt`];
    const keys = await Promise.all(files.map((f) => keyOf(client, f)));
    assert.match(keys[0] ?? "", /^URL--http:\/\/127\.0\.0\.1:/);
    assert.match(keys[1] ?? "", new RegExp(`^WORM-s\\d+-m\\d+--${tag}/sub/w\\.txt$`));
    return { files, keys };
  }

  async function holds(repo: string, key: string): Promise<boolean> {
    const r = await run("git", ["annex", "contentlocation", key], { cwd: join(root, repo) }).catch(
      () => "",
    );
    return r.trim() !== "";
  }

  /** copy --to, drop here, get --from, for every target; checks where each copy landed. */
  async function roundTrips(client: string, env: Record<string, string>, tag: string) {
    const git = (...a: string[]) => run("git", a, { cwd: client, env });
    const { files, keys } = await makeSlashKeys(client, env, tag);
    const original = await Promise.all(files.map((f) => readFile(join(client, f))));
    for (const target of TARGETS) {
      await git("annex", "copy", "-q", "--to", target, ...files);
      for (const key of keys) {
        const held = await Promise.all(HOLDERS[target].map((r) => holds(r, key)));
        assert.ok(held.includes(true), `${key} reached ${target}`);
      }
      await git("annex", "drop", "-q", "--force", ...files);
      for (const f of files) await assert.rejects(readFile(join(client, f)), `${f} dropped`);
      await git("annex", "get", "-q", "--from", target, ...files);
      const back = await Promise.all(files.map((f) => readFile(join(client, f))));
      assert.deepEqual(back, original, `content back from ${target}`);
    }
  }

  it("over p2phttp: to the gateway, a proxied node and a cluster, and back", async () => {
    const client = await annexHttpClone(gw, join(root, "http-client"), server?.port ?? 0);
    await roundTrips(client, {}, "h");
  });

  it("over ssh: to the gateway, a proxied node and a cluster, and back", async () => {
    const ssh = sshd as TestSshd;
    const client = join(root, "ssh-client");
    const env = ssh.clientEnv();
    await run("git", ["clone", "-q", `${ssh.host}:${gw}`, client], { env });
    for (const [k, v] of clientGitConfig) await run("git", ["config", k, v], { cwd: client });
    await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: client });
    await run("git", ["annex", "init", "-q", "ssh-client"], { cwd: client, env });
    await roundTrips(client, env, "s");
    // It all went through annexgate's git-annex-shell, the proxied targets with --uuid.
    const logins = await ssh.logins();
    assert.ok(
      logins.every((l) => l.startsWith("annexgate ")),
      logins.join("\n"),
    );
    assert.ok(
      logins.some((l) => l.includes("'p2pstdio'") && l.includes("--uuid")),
      logins.join("\n"),
    );
  });

  it("stock git annex fsck passes in every repository that holds them", async () => {
    const checked: Record<string, string> = {};
    for (const repo of ["gw", "solo", "c1", "c2"]) {
      // fsck --all checks every key the repository has (it exits non-zero on a failure).
      const out = await run("git", ["annex", "fsck", "--all"], { cwd: join(root, repo) });
      assert.doesNotMatch(out, /failed|bad/i, `${repo}: ${out}`);
      checked[repo] = out;
    }
    // Each holder was checked on both kinds of key (a cluster upload reaches one node or both).
    for (const holders of Object.values(HOLDERS)) {
      const out = holders.map((r) => checked[r] ?? "").join("\n");
      assert.match(out, /fsck URL--http.* ok/, holders.join(","));
      assert.match(out, /fsck WORM-.*--[hs]\/sub\/w\.txt.* ok/, holders.join(","));
    }
  });
});
