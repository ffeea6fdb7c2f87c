/**
 * Special remotes in the gateway's configuration, annexgate against stock
 * git-annex: twin copies of one gateway (its special remotes made by stock
 * `initremote`) run stock's and annexgate's `updateproxy` /
 * `updatecluster`; both must print the same, refuse the same remotes with
 * the same messages, and write byte-equal proxy.log and cluster.log (the
 * clock fixed by GIT_ANNEX_VECTOR_CLOCK). Then annexgate reads the records
 * stock wrote, and its p2phttp server answers a request for a proxied
 * special remote it cannot reach yet with a clear error while it keeps
 * serving its other nodes.
 */
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AnnexBranch } from "../../src/branch/index.js";
import { Git } from "../../src/git/index.js";
import { loadGatewayConfig, type Remote, routeFor } from "../../src/remotes/index.js";
import { configCommand, gatewayRepo, holdsVerified, keyOf } from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  runOutcome,
  writeRandomFile,
} from "../helpers/index.js";
import { initStockS3Remote, type RunningS3Server, startS3Server } from "../helpers/s3-server.js";
import { ANNEXGATE_BIN, annexHttpClone, startAnnexgate } from "../helpers/servers.js";
import { ANNEXGATE_GIT_ANNEX_SHELL } from "../helpers/sshd.js";

const CLOCK = { GIT_ANNEX_VECTOR_CLOCK: "1700000000" };

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Tool = "stock" | "annexgate";

/** Runs a command of either tool in `cwd`, never rejecting; stderr without the program's prefix. */
function step(t: Tool, args: readonly string[], cwd: string): Promise<Result> {
  const [cmd, argv] =
    t === "stock" ? ["git", ["annex", ...args]] : [process.execPath, [ANNEXGATE_BIN, ...args]];
  return runOutcome(cmd, argv, { cwd, env: CLOCK }).then((r) => ({
    ...r,
    stderr: r.stderr.replace(/^(git-annex|annexgate): /gm, ""),
  }));
}

const git = (cwd: string, ...args: string[]) => run("git", args, { cwd });

/** A log as git-annex reads it: the journal's copy when there is one, else the branch's. */
async function logText(repo: string, path: string): Promise<string> {
  const journal = await readFile(join(repo, ".git", "annex", "journal", path), "utf8").catch(
    () => null,
  );
  return journal ?? (await git(repo, "show", `git-annex:${path}`).catch(() => ""));
}

/** The special remotes of the base world: name → extra initremote parameters and git config. */
const SPECIALS: readonly (readonly [string, readonly string[], readonly [string, string][]])[] = [
  ["dp", [], [["annex-proxy", "true"]]],
  ["dn", [], [["annex-cluster-node", "mycluster"]]],
  ["dx", ["exporttree=yes"], [["annex-proxy", "true"]]],
  ["dxn", ["exporttree=yes"], [["annex-cluster-node", "mycluster"]]],
  ["dxa", ["exporttree=yes", "annexobjects=yes"], [["annex-proxy", "true"]]],
  // Legacy chunking (chunksize=), which annexgate refuses; chunk= is served.
  ["dc", ["chunksize=1MiB"], [["annex-proxy", "true"]]],
];

let root: string;
let base: string;
let copies = 0;

/**
 * The gateway world, built once with stock git-annex: a cluster, a git
 * node, directory remotes proxied or cluster nodes (plain, export with and
 * without annexobjects, legacy-chunked), a sameas export remote, an rsync remote,
 * and a directory remote with no UUID.
 */
async function buildBase(): Promise<void> {
  base = join(root, "base");
  await mkdir(base);
  const gw = await gatewayRepo(join(base, "gw"), "gw");
  await gitAnnexRepo(join(base, "node1"), "node1");
  await git(gw, "remote", "add", "node1", join(base, "node1"));
  await git(gw, "config", "remote.node1.annex-cluster-node", "mycluster");
  await git(gw, "config", "remote.node1.annex-proxy", "true");
  await configCommand("stock", gw, ["initcluster", "mycluster"]);
  for (const [name, params, settings] of SPECIALS) {
    const dir = join(base, `dir-${name}`);
    await mkdir(dir);
    const p = [`directory=${dir}`, "encryption=none", ...params];
    await git(gw, "annex", "initremote", "-q", name, "type=directory", ...p);
    for (const [k, v] of settings) await git(gw, "config", `remote.${name}.${k}`, v);
  }
  await mkdir(join(base, "dir-ds"));
  const sameas = ["--sameas=dp", "type=directory", `directory=${join(base, "dir-ds")}`];
  await git(gw, "annex", "initremote", "-q", "ds", ...sameas, "exporttree=yes");
  await git(gw, "config", "remote.ds.annex-proxy", "true");
  await mkdir(join(base, "rsync"));
  const rsync = ["type=rsync", `rsyncurl=${join(base, "rsync")}`, "encryption=none"];
  await git(gw, "annex", "initremote", "-q", "rs", ...rsync);
  await git(gw, "config", "remote.rs.annex-proxy", "true");
  await git(gw, "config", "remote.nu.annex-directory", join(base, "dir-dp"));
  await git(gw, "config", "remote.nu.annex-proxy", "true");
}

/** A copy of the base world (same UUIDs, same directories); returns its gateway. */
async function copyOfBase(): Promise<string> {
  copies += 1;
  const dir = join(root, `copy${copies}`);
  await run("cp", ["-a", base, dir]);
  const gw = join(dir, "gw");
  // The copy's git remote points into the copy.
  await git(gw, "remote", "set-url", "node1", join(dir, "node1"));
  return gw;
}

const CLIENT = "00000000-1111-4222-8333-444444444444";

/** A p2pstdio session with annexgate's git-annex-shell for repository `uuid` through `gw`. */
function shellSession(gw: string, uuid: string, key: string): Promise<Result> {
  return runOutcome(ANNEXGATE_GIT_ANNEX_SHELL, ["p2pstdio", gw, CLIENT, "--uuid", uuid], {
    env: { ANNEXGATE_NODE: process.execPath },
    input: `VERSION 1\nCHECKPRESENT ${key}\n`,
  });
}

async function uuidOfRemote(gw: string, name: string): Promise<string> {
  return (await git(gw, "config", `remote.${name}.annex-uuid`)).trim();
}

before(async () => {
  await requireGitAnnex();
  root = await makeTempDir("annexgate-special-config-");
  await buildBase();
});
after(async () => {
  await removeDir(root);
});

describe("updateproxy and updatecluster with special remotes, annexgate against stock", () => {
  it("same messages and refusals, byte-equal proxy.log and cluster.log after each step", async () => {
    const worlds: Record<Tool, string> = {
      stock: await copyOfBase(),
      annexgate: await copyOfBase(),
    };
    const script: (readonly string[])[] = [
      ["updateproxy"],
      ["updatecluster"],
      ["config", "--unset", "remote.dp.annex-proxy"],
      ["config", "remote.dxa.annex-cluster-node", "mycluster"],
      ["config", "--unset", "remote.dn.annex-cluster-node"],
      ["updatecluster"],
      ["updateproxy"],
    ];
    let refusals = 0;
    for (const args of script) {
      if (args[0] === "config") {
        for (const gw of Object.values(worlds)) await git(gw, ...args);
        continue;
      }
      const s = await step("stock", args, worlds.stock);
      const a = await step("annexgate", args, worlds.annexgate);
      assert.deepEqual(a, s, args.join(" "));
      refusals += s.stderr.split("\n").filter((l) => l.includes("Cannot ")).length;
      for (const log of ["proxy.log", "cluster.log"]) {
        const stockLog = await logText(worlds.stock, log);
        assert.equal(await logText(worlds.annexgate, log), stockLog, `${log} after ${args}`);
      }
    }
    // Every refusal stock makes was met: no UUID, exporttree without annexobjects
    // (sameas included), as a proxy and as a cluster node.
    assert.ok(refusals >= 6, `${refusals} refusals`);
    const clusterLog = await logText(worlds.annexgate, "cluster.log");
    assert.match(clusterLog, new RegExp(await uuidOfRemote(worlds.annexgate, "dxa")));
    const proxyLog = await logText(worlds.annexgate, "proxy.log");
    for (const name of ["dxa", "dc", "rs", "node1", "mycluster"]) {
      assert.match(proxyLog, new RegExp(`:${name}\\b`), name);
    }
    // dp and dn were proxied until their git config changed.
    for (const name of ["dp", "dn", "dx", "dxn", "ds", "nu"]) {
      assert.doesNotMatch(proxyLog, new RegExp(`:${name}\\b`), name);
    }
  });
});

describe("annexgate reads the special remotes stock proxies", () => {
  let gw: string;
  let remotes: readonly Remote[];
  let route: (name: string) => ReturnType<typeof routeFor>;

  before(async () => {
    gw = await copyOfBase();
    await configCommand("stock", gw, ["updatecluster"]);
    await configCommand("stock", gw, ["updateproxy"]);
    const g = await Git.open(gw);
    const branch = await AnnexBranch.open(g);
    try {
      const cfg = await loadGatewayConfig(g, branch);
      remotes = cfg.remotes;
      const uuids = new Map<string, string>();
      for (const name of ["dp", "dn", "dc", "rs", "dxa"]) {
        uuids.set(name, await uuidOfRemote(gw, name));
      }
      route = (name) => routeFor(cfg, uuids.get(name) ?? "");
    } finally {
      await branch.close();
    }
  });

  it("routes to directory remotes, with their settings; costs as git-annex's", async () => {
    const dp = route("dp");
    assert.equal(dp?.kind, "proxied");
    if (dp?.kind !== "proxied") return;
    assert.equal(dp.remote.name, "dp");
    assert.equal(dp.remote.cost, 100);
    assert.deepEqual(dp.remote.transport, {
      kind: "directory",
      directory: join(gw, "..", "..", "base", "dir-dp"),
      special: {
        fields: { encryption: "none", name: "dp", type: "directory" },
        gitConfig: {
          directory: join(gw, "..", "..", "base", "dir-dp"),
          uuid: await uuidOfRemote(gw, "dp"),
          proxy: "true",
        },
      },
    });
    assert.equal(route("dn")?.kind, "proxied");
  });

  it("what annexgate cannot serve yet is routed too, refused with a reason; an export remote with annexobjects is served", async () => {
    const reason = (name: string) => {
      const r = route(name);
      const t = r?.kind === "proxied" ? r.remote.transport : null;
      return t?.kind === "unsupported" ? t.reason : t?.kind;
    };
    // Legacy-chunked: a directory transport, which the directory kind refuses at open.
    assert.equal(reason("dc"), "directory");
    assert.equal(reason("rs"), "rsync special remotes are not supported yet");
    // exporttree=yes with annexobjects=yes: served (peers/special/open-export.ts).
    assert.equal(reason("dxa"), "directory");
    // The no-UUID remote is listed (updateproxy warned about it), never routed.
    assert.equal(remotes.find((r) => r.name === "nu")?.uuid, "");
  });
});

describe("the gateway serving proxied special remotes", () => {
  it("a clear error for one it cannot reach yet; its other nodes keep being served", async () => {
    const gw = await copyOfBase();
    await configCommand("annexgate", gw, ["updatecluster"]);
    await configCommand("annexgate", gw, ["updateproxy"]);
    const server = await startAnnexgate(gw, ["--wideopen"]);
    try {
      const client = await annexHttpClone(gw, join(gw, "..", "client"), server.port);
      await writeRandomFile(join(client, "f"), 100_000);
      await git(client, "annex", "add", "-q", "f");
      await git(client, "commit", "-q", "-m", "f");
      const key = await keyOf(client, "f");
      for (const name of ["dc", "rs"]) {
        const r = await step("stock", ["copy", "--to", `origin-${name}`, "f"], client);
        assert.notEqual(r.code, 0, `copy to ${name} must fail`);
        assert.doesNotMatch(r.stderr + r.stdout, new RegExp(root.replace(/[/.]/g, "\\$&")));
        assert.doesNotMatch(r.stderr + r.stdout, /at .*\.js:\d+/);
      }
      // Over HTTP the client sees a failed request; the reason is in the server's log.
      const log = server.stderr();
      assert.match(
        log,
        /cannot reach remote dc: special remotes with legacy chunksize= chunking are not supported \(chunk= is\)/,
      );
      assert.match(log, /cannot reach remote rs: rsync special remotes are not supported yet/);
      // Over git-annex-shell the client is told the reason.
      const session = await shellSession(gw, await uuidOfRemote(gw, "dc"), key);
      assert.match(
        session.stdout,
        /^ERROR cannot reach remote dc: special remotes with legacy chunksize= chunking are not supported \(chunk= is\)$/m,
      );
      // The others are served as before, by the same server: a git node and a directory remote.
      await git(client, "annex", "copy", "-q", "--to", "origin-node1", "f");
      assert.equal(await holdsVerified(join(gw, "..", "node1"), key), true);
      await git(client, "annex", "copy", "-q", "--to", "origin-dp", "f");
      const inDp = await git(client, "annex", "whereis", "--in", "origin-dp", "f");
      assert.match(inDp, /origin-dp/);
      const node1 = await shellSession(gw, await uuidOfRemote(gw, "node1"), key);
      assert.match(node1.stdout, /^SUCCESS$/m);
      await git(client, "annex", "drop", "-q", "f");
      await git(client, "annex", "get", "-q", "--from", "origin-node1", "f");
      assert.equal(await holdsVerified(client, key), true);
      assert.equal(server.child.exitCode, null);
    } finally {
      await server.stop();
    }
  });
});

describe("an S3 special remote made by stock initremote (s3rver on loopback)", () => {
  let s3: RunningS3Server;
  before(async () => {
    s3 = await startS3Server();
  });
  after(async () => {
    await s3?.close();
  });

  it("updateproxy proxies it as stock does; annexgate reads it as an S3 transport", async () => {
    const w = join(root, "s3world");
    await mkdir(w);
    const gw = await gatewayRepo(join(w, "gw"), "gw");
    const uuid = await initStockS3Remote(gw, s3, "s", "annexgate-cfg");
    await git(gw, "config", "remote.s.annex-proxy", "true");
    const twin = join(root, "s3twin");
    await run("cp", ["-a", w, twin]);
    const s = await step("stock", ["updateproxy"], gw);
    const a = await step("annexgate", ["updateproxy"], join(twin, "gw"));
    assert.deepEqual(a, s);
    assert.match(s.stdout, /^Started proxying for s$/m);
    const proxyLog = await logText(gw, "proxy.log");
    assert.equal(await logText(join(twin, "gw"), "proxy.log"), proxyLog);
    const g = await Git.open(join(twin, "gw"));
    const branch = await AnnexBranch.open(g);
    try {
      const r = routeFor(await loadGatewayConfig(g, branch), uuid);
      assert.equal(r?.kind, "proxied");
      if (r?.kind !== "proxied") return;
      assert.equal(r.remote.cost, 200);
      assert.deepEqual(r.remote.transport, {
        kind: "S3",
        special: {
          fields: {
            bucket: "annexgate-cfg",
            datacenter: "us-east-1",
            encryption: "none",
            host: "127.0.0.1",
            name: "s",
            port: String(s3.port),
            protocol: "http",
            requeststyle: "path",
            signature: "v4",
            storageclass: "STANDARD",
            type: "S3",
          },
          gitConfig: { s3: "true", uuid, proxy: "true" },
        },
      });
    } finally {
      await branch.close();
    }
  });
});
