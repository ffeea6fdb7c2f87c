/**
 * annexgate's initcluster / updatecluster / updateproxy / extendcluster
 * against stock git-annex's: twin gateways with the same remotes, one
 * configured by each, must print the same and record the same (UUIDs and
 * clocks aside); stock git-annex must read annexgate's records, and
 * annexgate stock's.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  AnnexBranch,
  formatClusterLog,
  formatProxyLog,
  formatUuidLog,
  parseClusterLog,
  parseProxyLog,
  parseUuidLog,
} from "../../src/branch/index.js";
import { Git } from "../../src/git/index.js";
import { loadGatewayConfig, routeFor } from "../../src/remotes/index.js";
import { makeTempDir, type Outcome, removeDir, run, runOutcome } from "../helpers/index.js";

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/cli/main.js");
const ENV = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
};

type Result = Outcome;
const exec = (cmd: string, args: readonly string[], cwd: string) =>
  runOutcome(cmd, args, { cwd, env: ENV });

type Tool = "stock" | "annexgate";

function tool(t: Tool, args: readonly string[], cwd: string): Promise<Result> {
  return t === "stock" ? exec("git", ["annex", ...args], cwd) : exec("node", [MAIN, ...args], cwd);
}

/** stderr without the program's own prefix ("git-annex: ", "annexgate: "). */
function messages(stderr: string): string {
  return stderr.replace(/^(git-annex|annexgate): /gm, "");
}

const sh = (args: readonly string[], cwd: string) => run("git", args, { cwd, env: ENV });

let tmp: string;
before(async () => {
  tmp = await makeTempDir("annexgate-cluster-config-");
});
after(async () => {
  await removeDir(tmp);
});

let worldCounter = 0;
const GATEWAY_UUID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
/** The UUIDs of every world's "ex" special remote (random: initremote makes them). */
const exUuids = new Set<string>();
const NODE_UUIDS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];

/** A git-annex repository with a fixed UUID. */
async function annexRepo(dir: string, desc: string, uuid?: string): Promise<string> {
  await sh(["init", "-q", dir], tmp);
  if (uuid !== undefined) await sh(["config", "annex.uuid", uuid], dir);
  await sh(["annex", "init", "-q", desc], dir);
  return dir;
}

/** A gateway with remotes node1, node2 (cluster nodes), nu (no annex uuid), ex (export special remote). */
async function gatewayWorld(): Promise<string> {
  worldCounter += 1;
  const w = join(tmp, `w${worldCounter}`);
  await mkdir(w);
  const gw = await annexRepo(join(w, "gw"), "gw", GATEWAY_UUID);
  for (const [i, uuid] of NODE_UUIDS.entries()) {
    const node = await annexRepo(join(w, `node${i + 1}`), `node${i + 1}`, uuid);
    await sh(["remote", "add", `node${i + 1}`, node], gw);
    await sh(["config", `remote.node${i + 1}.annex-cluster-node`, "mycluster"], gw);
  }
  await sh(["init", "-q", join(w, "plain")], tmp);
  await sh(["remote", "add", "nu", join(w, "plain")], gw);
  await sh(["config", "remote.nu.annex-proxy", "true"], gw);
  await mkdir(join(w, "exdir"));
  await sh(
    [
      "annex",
      "initremote",
      "-q",
      "ex",
      "type=directory",
      `directory=${join(w, "exdir")}`,
      "exporttree=yes",
      "encryption=none",
    ],
    gw,
  );
  await sh(["config", "remote.ex.annex-proxy", "true"], gw);
  exUuids.add((await sh(["config", "remote.ex.annex-uuid"], gw)).trim());
  await sh(["fetch", "-q", "--all"], gw);
  return gw;
}

async function show(repo: string, path: string): Promise<string> {
  return sh(["show", `git-annex:${path}`], repo).catch(() => "");
}

/**
 * Branch logs and config with this world's own UUIDs (gateway, clusters,
 * special remote) and clocks replaced; lines, and the words of proxy.log
 * lines, sorted (their order follows the random UUIDs). With `current`,
 * each log is reduced first to its current value per UUID (what git-annex
 * reads), since union merges may keep superseded lines.
 */
async function shape(gw: string, current = false): Promise<Record<string, string>> {
  const uuids = new Map<string, string>();
  const own = (await sh(["config", "annex.uuid"], gw)).trim();
  uuids.set(own, "GW");
  const config = (await sh(["config", "--list", "--local"], gw))
    .split("\n")
    .filter((l) => /^(annex\.cluster\.|remote\.[^=]*\.annex-(uuid|cluster|proxy))/.test(l))
    .sort();
  for (const l of config) {
    const m = /^annex\.cluster\.([^=]*)=(.*)$/.exec(l);
    if (m) uuids.set(m[2] ?? "", `CLUSTER-${m[1]}`);
  }
  for (const u of exUuids) uuids.set(u, "EX");
  const norm = (text: string, sortWords: boolean) => {
    let out = text.replace(/\d+(\.\d+)?s\b/g, "T");
    for (const [u, name] of uuids) out = out.split(u).join(name);
    return out
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("EX "))
      .map((l) => {
        if (!sortWords) return l;
        const [clock, uuid, ...words] = l.split(" ");
        return [clock, uuid, ...words.sort()].join(" ");
      })
      .sort()
      .join("\n");
  };
  const proxyText = await show(gw, "proxy.log");
  const clusterText = await show(gw, "cluster.log");
  const uuidText = await show(gw, "uuid.log");
  return {
    proxy: norm(current ? formatProxyLog(parseProxyLog(proxyText)) : proxyText, true),
    cluster: norm(current ? formatClusterLog(parseClusterLog(clusterText)) : clusterText, true),
    uuid: norm(current ? formatUuidLog(parseUuidLog(uuidText)) : uuidText, false),
    config: norm(config.join("\n"), false),
  };
}

async function step(gw: string, t: Tool, args: readonly string[]): Promise<Result> {
  const r = await tool(t, args, gw);
  return { code: r.code, stdout: r.stdout, stderr: messages(r.stderr) };
}

describe("cluster configuration commands, annexgate against stock", () => {
  const worlds: Record<Tool, string> = { stock: "", annexgate: "" };

  it("twin gateways: same messages, same records", async () => {
    worlds.stock = await gatewayWorld();
    worlds.annexgate = await gatewayWorld();
    const script: (readonly string[])[] = [
      ["initcluster", "mycluster"],
      ["updatecluster"],
      ["updateproxy"],
      ["initcluster", "other", "my other cluster"],
      ["updateproxy"],
    ];
    for (const args of script) {
      const s = await step(worlds.stock, "stock", args);
      const a = await step(worlds.annexgate, "annexgate", args);
      assert.deepEqual(a, s, `${args.join(" ")}`);
    }
    // A node leaves the cluster.
    for (const gw of Object.values(worlds)) {
      await sh(["config", "--unset", "remote.node2.annex-cluster-node"], gw);
    }
    const s = await step(worlds.stock, "stock", ["updatecluster"]);
    const a = await step(worlds.annexgate, "annexgate", ["updatecluster"]);
    assert.deepEqual(a, s);
    assert.match(a.stdout, /Removed node \[node2\] from cluster: mycluster/);
    assert.match(a.stdout, /Stopped proxying for node2/);
    assert.deepEqual(await shape(worlds.annexgate), await shape(worlds.stock));
    assert.match((await shape(worlds.annexgate)).proxy ?? "", /CLUSTER-mycluster:mycluster/);
    // annexgate merged the nodes' git-annex branches as stock does; stock accepts the result.
    const log = await sh(["log", "--format=%s %p", "git-annex"], worlds.annexgate);
    assert.match(log, /^merging node1\/git-annex node2\/git-annex into git-annex \S+ \S+ \S+$/m);
    await sh(["annex", "merge"], worlds.annexgate);
    assert.match(await sh(["annex", "info", "--fast"], worlds.annexgate), /cluster mycluster/);
  });

  it("stock git-annex reads annexgate's records through a client", async () => {
    const gw = worlds.annexgate;
    const client = await annexRepo(join(tmp, "client"), "client");
    await sh(["remote", "add", "gw", "ssh://gateway.invalid/srv/gw"], client);
    await sh(
      ["config", "remote.gw.annex-uuid", (await sh(["config", "annex.uuid"], gw)).trim()],
      client,
    );
    await sh(["fetch", "-q", gw, "git-annex:refs/remotes/gw/git-annex"], client);
    const info = await sh(["annex", "info", "gw"], client);
    const gatewayTo = /^gateway to cluster: (.*)$/m.exec(info)?.[1]?.split(" ").sort();
    assert.deepEqual(gatewayTo, ["gw-mycluster", "gw-other"]);
    assert.match(info, /^proxying: gw-node1$/m);
    const node = await sh(["annex", "info", "gw-node1"], client);
    assert.match(node, /^uuid: 11111111-1111-4111-8111-111111111111$/m);
    assert.match(node, /^cost: 200\.1$/m);
  });

  it("annexgate reads stock's records: routes for its clusters and nodes", async () => {
    const git = await Git.open(worlds.stock);
    const branch = await AnnexBranch.open(git);
    try {
      const cfg = await loadGatewayConfig(git, branch);
      const cu = cfg.clusters.get("mycluster") as string;
      assert.deepEqual(routeFor(cfg, cu), { kind: "cluster", clusterUuid: cu });
      const r = routeFor(cfg, NODE_UUIDS[0] as string);
      assert.equal(r?.kind === "proxied" ? r.remote.name : null, "node1");
      assert.equal(routeFor(cfg, NODE_UUIDS[1] as string), null);
    } finally {
      await branch.close();
    }
  });

  it("extendcluster: a second gateway, in both directions, as stock does it", async () => {
    const out: Record<Tool, string[]> = { stock: [], annexgate: [] };
    const shapes: Record<string, Record<string, string>> = {};
    for (const t of ["stock", "annexgate"] as const) {
      const a = await gatewayWorld();
      const w = dirname(a);
      await step(a, "stock", ["initcluster", "mycluster"]);
      await step(a, "stock", ["updatecluster"]);
      const b = await annexRepo(join(w, "gwb"), "gwb", "33333333-3333-4333-8333-333333333333");
      const node3 = await annexRepo(
        join(w, "node3"),
        "node3",
        "44444444-4444-4444-8444-444444444444",
      );
      await sh(["remote", "add", "node3", node3], b);
      await sh(["config", "remote.node3.annex-cluster-node", "mycluster"], b);
      // Gateways reach each other over ssh (never contacted here); branches come by fetch.
      const link = async (from: string, to: string, name: string) => {
        await sh(["remote", "add", name, `ssh://${name}.invalid/srv`], from);
        await sh(
          ["config", `remote.${name}.annex-uuid`, (await sh(["config", "annex.uuid"], to)).trim()],
          from,
        );
        await sh(["fetch", "-q", to, `git-annex:refs/remotes/${name}/git-annex`], from);
      };
      await link(b, a, "gwa");
      await sh(["fetch", "-q", "node3"], b);
      const r1 = await step(b, t, ["extendcluster", "gwa", "mycluster"]);
      await link(a, b, "gwb");
      const r2 = await step(a, t, ["extendcluster", "gwb", "mycluster"]);
      out[t] = [r1.stdout, r1.stderr, String(r1.code), r2.stdout, r2.stderr, String(r2.code)];
      shapes[`${t}-a`] = await shape(a, true);
      shapes[`${t}-b`] = await shape(b, true);
    }
    assert.deepEqual(out.annexgate, out.stock);
    assert.match(out.annexgate[0] ?? "", /^extendcluster mycluster ok$/m);
    assert.match(out.annexgate[0] ?? "", /Added node node3 to cluster: mycluster/);
    assert.deepEqual(shapes["annexgate-a"], shapes["stock-a"]);
    assert.deepEqual(shapes["annexgate-b"], shapes["stock-b"]);
    assert.match(
      shapes["annexgate-b"]?.config ?? "",
      /remote\.gwa\.annex-cluster-gateway=CLUSTER-mycluster/,
    );
  });

  it("bad input: git-annex's refusals and messages, nothing changed", async () => {
    const cases: (readonly string[])[] = [
      ["initcluster", "bad/name"],
      ["initcluster"],
      ["initcluster", "a", "b", "c"],
      ["updatecluster", "x"],
      ["updateproxy", "x"],
      ["extendcluster", "x"],
      ["extendcluster", "nosuch", "mycluster"],
      ["extendcluster", "node1", "mycluster"],
    ];
    const gw = worlds.annexgate;
    const before = [
      await sh(["rev-parse", "git-annex"], gw),
      await sh(["config", "--list", "--local"], gw),
    ];
    for (const args of cases) {
      const s = await step(worlds.stock, "stock", args);
      const a = await step(gw, "annexgate", args);
      assert.notEqual(a.code, 0, args.join(" "));
      assert.deepEqual(
        { stdout: a.stdout, stderr: a.stderr },
        { stdout: s.stdout, stderr: s.stderr },
        args.join(" "),
      );
    }
    const now = [
      await sh(["rev-parse", "git-annex"], gw),
      await sh(["config", "--list", "--local"], gw),
    ];
    assert.deepEqual(now, before);
  });
});
