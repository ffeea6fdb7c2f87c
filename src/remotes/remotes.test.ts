import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AnnexBranch, recordCluster, recordProxies } from "../branch/index.js";
import { genClusterUuid, genUuid } from "../keys/index.js";
import { learnLocalRemoteUuids, loadGatewayConfig } from "./load.js";
import { configRepos, named } from "./remotes.fixture.js";
import { clusterNodesFor, notProxiedReason, routeFor } from "./route.js";
import type { ProxyEntry, Remote } from "./types.js";

const repos = configRepos("annexgate-remotes-");
const { repo, configOf } = repos;

const ME = "00000000-0000-4000-8000-0000000000aa";
const GW = "00000000-0000-4000-8000-0000000000bb";
const N1 = "00000000-0000-4000-8000-000000000001";
const N2 = "00000000-0000-4000-8000-000000000002";
const N3 = "00000000-0000-4000-8000-000000000003";

describe("remotes from git config", () => {
  it("transports, as git-annex reads locations", async () => {
    const cfg = await configOf([
      ["annex.uuid", ME],
      ["remote.loc.url", "../elsewhere"],
      ["remote.file.url", "file:///srv/repo%20x"],
      ["remote.ssh.url", "ssh://me@host.example:2222/~/annex"],
      ["remote.scp.url", "host.example:annex"],
      ["remote.scpabs.url", "me@host.example:/srv/annex"],
      ["remote.http.url", "https://host.example/repo.git"],
      ["remote.p2p.url", "https://host.example/repo.git"],
      ["remote.p2p.annexurl", "annex+http://host.example:9417/git-annex/"],
      ["remote.Mixed.Case.url", "ssh://h/x"],
      ["remote.special.annex-uuid", N3],
      ["remote.special.annex-directory", "/tmp/x"],
      ["url.ssh://h2/.insteadOf", "h2:"],
      ["remote.rewritten.url", "h2:repo"],
    ]);
    const t = (name: string) => named(cfg, name).transport;
    assert.deepEqual(t("loc"), { kind: "local", path: join(repos.root, "elsewhere") });
    assert.deepEqual(t("file"), { kind: "local", path: "/srv/repo x" });
    assert.deepEqual(t("ssh"), {
      kind: "ssh",
      host: "me@host.example",
      port: 2222,
      path: "/~/annex",
    });
    assert.deepEqual(t("scp"), { kind: "ssh", host: "host.example", path: "/~/annex" });
    assert.deepEqual(t("scpabs"), { kind: "ssh", host: "me@host.example", path: "/srv/annex" });
    assert.equal(t("http").kind, "unsupported");
    assert.deepEqual(t("p2p"), {
      kind: "p2phttp",
      url: "annex+http://host.example:9417/git-annex/",
    });
    assert.deepEqual(t("Mixed.Case"), { kind: "ssh", host: "h", path: "/x" });
    assert.deepEqual(t("special"), {
      kind: "directory",
      directory: "/tmp/x",
      special: { fields: {}, gitConfig: { uuid: N3, directory: "/tmp/x" } },
    });
    assert.deepEqual(t("rewritten"), { kind: "ssh", host: "h2", path: "/repo" });
  });

  it("costs: 100 local, 200 otherwise, annex-cost wins; sorted by cost, stable", async () => {
    const cfg = await configOf([
      ["remote.b.url", "ssh://h/b"],
      ["remote.a.url", "/x/a"],
      ["remote.c.url", "ssh://h/c"],
      ["remote.c.annex-cost", "50.5"],
      ["remote.d.url", "ssh://h/d"],
      ["remote.d.annex-cost", "junk"],
    ]);
    assert.deepEqual(
      cfg.remotes.map((r) => [r.name, r.cost]),
      [
        ["c", 50.5],
        ["a", 100],
        ["b", 200],
        ["d", 200],
      ],
    );
  });

  it("flags: annex-proxy, cluster-node (legal names only), cluster-gateway (cluster UUIDs only), ignore, no uuid", async () => {
    const cu = genClusterUuid();
    const cfg = await configOf([
      ["remote.r.url", "ssh://h/r"],
      ["remote.r.annex-uuid", N1],
      ["remote.r.annex-proxy", "yes"],
      ["remote.r.annex-cluster-node", "c1 bad/name c2"],
      ["remote.r.annex-cluster-gateway", `${cu} ${N2}`],
      ["remote.r.annex-ignore", "true"],
      ["remote.bare.url", "ssh://h/bare"],
    ]);
    const r = named(cfg, "r");
    assert.equal(r.proxy, true);
    assert.deepEqual(r.clusterNode, ["c1", "c2"]);
    assert.deepEqual(r.clusterGateway, [cu]);
    assert.equal(r.ignore, true);
    assert.equal(named(cfg, "bare").uuid, "");
    assert.equal(named(cfg, "bare").proxy, false);
  });

  it("learns the UUIDs of local remotes, as git-annex caches them", async () => {
    const node = await repo([["annex.uuid", N1]]);
    const git = await repo([
      ["remote.node.url", node.dir],
      ["remote.far.url", "ssh://h/far"],
    ]);
    assert.deepEqual(await learnLocalRemoteUuids(git), ["node"]);
    assert.equal(await git.configGet("remote.node.annex-uuid"), N1);
    assert.deepEqual(await learnLocalRemoteUuids(git), []);
  });
});

describe("proxied remotes (listProxied)", () => {
  it("a remote that can proxy gets PROXY-NAME remotes from proxy.log; local ones cannot", async () => {
    const cu = genClusterUuid();
    const proxies = new Map<string, ProxyEntry[]>([
      [
        GW,
        [
          { uuid: N1, name: "node1" },
          { uuid: N2, name: "node2" },
          { uuid: cu, name: "cl" },
        ],
      ],
      [N3, [{ uuid: N1, name: "node1" }]],
    ]);
    const clusters = new Map([[cu, new Set([N1])]]);
    const cfg = await configOf(
      [
        ["annex.uuid", ME],
        ["remote.gw.url", "ssh://gw.example/srv/gw"],
        ["remote.gw.annex-uuid", GW],
        ["remote.gw.annex-cost", "150"],
        ["remote.gw.annex-ignore", "false"],
        ["remote.local.url", "/srv/local"],
        ["remote.local.annex-uuid", N3],
        ["remote.gw-node2.annex-cost", "1"],
      ],
      proxies,
      clusters,
    );
    const names = cfg.remotes.map((r) => r.name);
    assert.ok(!names.includes("local-node1"), "a local remote cannot proxy");
    assert.ok(
      !names.includes("gw-node2") || named(cfg, "gw-node2").uuid === "",
      "configured name is not made",
    );
    const node1 = named(cfg, "gw-node1");
    assert.equal(node1.uuid, N1);
    assert.equal(node1.proxiedBy, GW);
    assert.deepEqual(node1.transport, { kind: "ssh", host: "gw.example", path: "/srv/gw" });
    // node1 is a node of the proxied cluster: the proxy's default cost + 0.1, not its configured one.
    assert.equal(node1.cost, 200.1);
    assert.equal(named(cfg, "gw-cl").cost, 150);
    assert.equal(named(cfg, "gw-cl").uuid, cu);
  });

  it("a p2phttp remote proxies even with a local url; proxied remotes inherit annex-proxy", async () => {
    const cfg = await configOf(
      [
        ["remote.gw.url", "/srv/gw"],
        ["remote.gw.annexurl", "annex+http://127.0.0.1:9417/git-annex/"],
        ["remote.gw.annex-uuid", GW],
        ["remote.gw.annex-proxy", "true"],
      ],
      new Map([[GW, [{ uuid: N1, name: "n" }]]]),
    );
    const r = named(cfg, "gw-n");
    assert.equal(r.transport.kind, "p2phttp");
    assert.equal(r.proxy, true);
    assert.equal(r.cost, 100);
  });
});

describe("routing (checkCanProxy')", () => {
  const cu = genClusterUuid();
  const settings: [string, string][] = [
    ["annex.uuid", ME],
    ["annex.cluster.mycl", cu],
    ["remote.p.url", "/srv/p"],
    ["remote.p.annex-uuid", N1],
    ["remote.p.annex-proxy", "true"],
    ["remote.c.url", "/srv/c"],
    ["remote.c.annex-uuid", N2],
    ["remote.c.annex-cluster-node", "mycl"],
    ["remote.x.url", "/srv/x"],
    ["remote.x.annex-uuid", N3],
  ];
  const mine: ProxyEntry[] = [
    { uuid: N1, name: "p" },
    { uuid: N2, name: "c" },
    { uuid: N3, name: "x" },
    { uuid: cu, name: "mycl" },
  ];

  it("self, proxied remotes whose proxying git config allows, clusters in cluster.log", async () => {
    const cfg = await configOf(settings, new Map([[ME, mine]]), new Map([[cu, new Set([N2])]]));
    assert.deepEqual(routeFor(cfg, ME), { kind: "self" });
    assert.equal((routeFor(cfg, N1) as { remote: Remote }).remote.name, "p");
    assert.equal((routeFor(cfg, N2) as { remote: Remote }).remote.name, "c");
    assert.deepEqual(routeFor(cfg, cu), { kind: "cluster", clusterUuid: cu });
    // x is listed in proxy.log but nothing in git config allows proxying it.
    assert.equal(routeFor(cfg, N3), null);
    assert.equal(
      notProxiedReason(cfg, N3, new Map([[N3, "node x"]])),
      "not configured to proxy for repository node x",
    );
    assert.equal(notProxiedReason(cfg, N3, new Map()), null);
    assert.equal(notProxiedReason(cfg, N1, new Map([[N1, "p"]])), null);
  });

  it("nothing is routed that my proxy.log does not list, nor a cluster missing from cluster.log", async () => {
    const cfg = await configOf(
      settings,
      new Map([
        [ME, mine.slice(1)],
        [GW, mine],
      ]),
      new Map(),
    );
    assert.equal(routeFor(cfg, N1), null);
    assert.equal(routeFor(cfg, cu), null);
    assert.equal(routeFor(cfg, "unknown"), null);
    const none = await configOf(settings, new Map(), new Map());
    assert.equal(routeFor(none, N1), null);
    assert.equal(notProxiedReason(none, N3, new Map([[N3, "x"]])), null);
  });

  it("the proxy.log name must be the remote's name", async () => {
    const cfg = await configOf(settings, new Map([[ME, [{ uuid: N1, name: "other" }]]]));
    assert.equal(routeFor(cfg, N1), null);
  });

  it("a remote proxied by a cluster gateway is routed; the cluster through it is a node", async () => {
    const gwSettings: [string, string][] = [
      ["annex.uuid", ME],
      ["annex.cluster.mycl", cu],
      ["remote.gw.url", "ssh://gw/srv"],
      ["remote.gw.annex-uuid", GW],
      ["remote.gw.annex-cluster-gateway", cu],
      ["remote.n.url", "/srv/n"],
      ["remote.n.annex-uuid", N2],
      ["remote.n.annex-cluster-node", "mycl"],
    ];
    const proxies = new Map<string, ProxyEntry[]>([
      [
        GW,
        [
          { uuid: N1, name: "node1" },
          { uuid: cu, name: "mycl" },
        ],
      ],
      [
        ME,
        [
          { uuid: N1, name: "gw-node1" },
          { uuid: N2, name: "n" },
          { uuid: cu, name: "mycl" },
        ],
      ],
    ]);
    const clusters = new Map([[cu, new Set([N1, N2])]]);
    const cfg = await configOf(gwSettings, proxies, clusters);
    const route = routeFor(cfg, N1);
    assert.equal(route?.kind === "proxied" ? route.remote.name : null, "gw-node1");
    assert.deepEqual(
      clusterNodesFor(cfg, cu, new Set()).map((r) => r.name),
      ["n", "gw-mycl"],
    );
    assert.deepEqual(
      clusterNodesFor(cfg, cu, new Set([GW])).map((r) => r.name),
      ["n"],
    );
    // Without the gateway setting, neither.
    const plain = await configOf(
      gwSettings.filter(([k]) => !k.endsWith("cluster-gateway")),
      proxies,
      clusters,
    );
    assert.equal(routeFor(plain, N1), null);
    assert.deepEqual(
      clusterNodesFor(plain, cu, new Set()).map((r) => r.name),
      ["n"],
    );
  });

  it("a proxy of a proxy: B-node3 is proxied through A only as git-annex lists it", async () => {
    // This repository (A) has remote B, itself a gateway proxying node3.
    const B = GW;
    const proxies = new Map<string, ProxyEntry[]>([
      [B, [{ uuid: N3, name: "node3" }]],
      [ME, [{ uuid: N3, name: "B-node3" }]],
    ]);
    const withProxy = await configOf(
      [
        ["annex.uuid", ME],
        ["remote.B.url", "ssh://b/srv"],
        ["remote.B.annex-uuid", B],
        ["remote.B.annex-proxy", "true"],
      ],
      proxies,
    );
    const r = named(withProxy, "B-node3");
    assert.equal(r.proxy, true, "annex-proxy is inherited by proxied remotes");
    const route = routeFor(withProxy, N3);
    assert.equal(route?.kind === "proxied" ? route.remote.name : null, "B-node3");
    const without = await configOf(
      [
        ["annex.uuid", ME],
        ["remote.B.url", "ssh://b/srv"],
        ["remote.B.annex-uuid", B],
      ],
      proxies,
    );
    assert.equal(routeFor(without, N3), null);
  });
});

describe("loadGatewayConfig", () => {
  it("reads git config and the branch's proxy.log and cluster.log", async () => {
    const cu = genClusterUuid();
    const me = genUuid();
    const git = await repo([
      ["annex.uuid", me],
      ["annex.cluster.cl", cu],
      ["remote.n.url", "/srv/n"],
      ["remote.n.annex-uuid", N1],
      ["remote.n.annex-cluster-node", "cl"],
    ]);
    const branch = await AnnexBranch.open(git);
    try {
      await recordProxies(branch, me, [
        { uuid: N1, name: "n" },
        { uuid: cu, name: "cl" },
      ]);
      await recordCluster(branch, cu, [N1]);
      await branch.change("trust.log", () => `${N2} X timestamp=1s\n`);
      const cfg = await loadGatewayConfig(git, branch);
      assert.equal(cfg.uuid, me);
      assert.deepEqual([...cfg.clusters], [["cl", cu]]);
      assert.deepEqual(routeFor(cfg, cu), { kind: "cluster", clusterUuid: cu });
      assert.equal(routeFor(cfg, N1)?.kind, "proxied");
      assert.deepEqual(
        clusterNodesFor(cfg, cu, new Set()).map((r) => r.name),
        ["n"],
      );
    } finally {
      await branch.close();
    }
  });
});
