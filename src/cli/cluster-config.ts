/**
 * The cluster and proxy configuration commands, as git-annex has them
 * (Command/InitCluster.hs, UpdateCluster.hs, UpdateProxy.hs,
 * ExtendCluster.hs): `annexgate initcluster NAME [DESCRIPTION]`,
 * `updatecluster`, `updateproxy`, `extendcluster GATEWAY CLUSTERNAME`.
 * Each merges the remotes' git-annex branches first, writes the same
 * records (proxy.log, cluster.log, uuid.log, git config) and prints the
 * same messages; warnings go to stderr as git-annex's do.
 */
import {
  type AnnexBranch,
  byteOrder,
  isLegalRemoteName,
  normaliseProxyEntries,
  type ProxyLogEntry,
  readUuidDescriptions,
  recordCluster,
  recordProxies,
  setUuidDescription,
} from "../branch/index.js";
import type { Git } from "../git/index.js";
import { genClusterUuid, isClusterUuid } from "../keys/index.js";
import {
  type GatewayConfig,
  learnLocalRemoteUuids,
  loadGatewayConfig,
  type Remote,
  remotesInListOrder,
} from "../remotes/index.js";
import { printError, withRepository } from "./command.js";
import { uuidDescriptions } from "./repositories.js";
import { UsageError } from "./usage.js";

/** What a command prints, gathered so the order is git-annex's. */
interface Output {
  out(line: string): void;
  warn(line: string): void;
}

const console: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  warn: (line) => process.stderr.write(`  ${line}\n`),
};

/** A repository opened for one command: git, the branch (remote branches merged), and its config. */
interface Session {
  readonly git: Git;
  readonly branch: AnnexBranch;
  readonly myUuid: string;
  /** The remote branches merged on opening, and whether that made a merge commit (not a fast-forward). */
  readonly merged: readonly string[];
  readonly mergeCommitted: boolean;
}

/** Opens the repository here for `f`, having merged the remotes' git-annex branches. */
async function withSession(f: (s: Session) => Promise<number>): Promise<number> {
  return withRepository(
    async ({ git, branch, uuid }) => {
      const merged = await branch.mergeRemoteBranches();
      let mergeCommitted = false;
      if (merged.length > 0) {
        const parents = (await git.run(["rev-list", "--parents", "-n1", "refs/heads/git-annex"]))
          .toString("utf8")
          .trim()
          .split(" ");
        mergeCommitted = parents.length > 2;
      }
      return f({ git, branch, myUuid: uuid, merged, mergeCommitted });
    },
    {
      beforeBranch: async (git) => {
        await learnLocalRemoteUuids(git);
      },
    },
  );
}

/**
 * git-annex's `checkCanProxy`: a remote needs a known UUID, and a special
 * remote with exporttree=yes (one that supports export) also needs
 * annexobjects=yes. Warns and returns false otherwise.
 */
function canProxyChecker(output: Output): (r: Remote, cannot: string) => boolean {
  return (r, cannot) => {
    if (r.uuid === "") {
      output.warn(`${r.name} is a git remote without a known annex-uuid. ${cannot}`);
      return false;
    }
    const fields = r.special?.fields;
    if (fields?.exporttree === "yes" && fields.annexobjects !== "yes") {
      output.warn(
        `${r.name} is a special remote configured with exporttree=yes, but without annexobjects=yes. ${cannot} Suggest you run: git-annex enableremote ${r.name} annexobjects=yes`,
      );
      return false;
    }
    return true;
  };
}

/** What updatecluster and updateproxy work from: one view of the gateway's configuration. */
interface ConfigView {
  readonly s: Session;
  readonly cfg: GatewayConfig;
  /** git-annex's `checkCanProxy` over the remotes' configs. */
  readonly check: (r: Remote, cannot: string) => boolean;
  readonly output: Output;
}

async function configView(s: Session, output: Output): Promise<ConfigView> {
  const cfg = await loadGatewayConfig(s.git, s.branch);
  const check = canProxyChecker(output);
  return { s, cfg, check, output };
}

/**
 * updateproxy's work (Command/UpdateProxy.hs `start`): proxy for the
 * remotes configured with annex-proxy or annex-cluster-node, for this
 * repository's clusters, and for nodes of its clusters that other
 * gateways proxy; record the set when it changed.
 */
async function updateProxy(view: ConfigView): Promise<void> {
  const { s, cfg, check, output } = view;
  const remoteProxies = remotesInListOrder(cfg.remotes)
    .filter(
      (r) => (r.proxy || r.clusterNode.length > 0) && check(r, "Cannot proxy to this remote."),
    )
    .map((r) => ({ uuid: r.uuid, name: r.name }));
  const myClusterUuids = new Set(cfg.clusters.values());
  const clusterProxies = [...cfg.clusters].map(([name, uuid]) => ({ uuid, name }));
  const proxied = new Set([...remoteProxies, ...clusterProxies].map((p) => p.uuid));
  const remoteProxiedNodes = cfg.remotes
    .filter(
      (r) =>
        r.proxiedBy !== null &&
        [...cfg.clusterNodes].some(([cu, nodes]) => myClusterUuids.has(cu) && nodes.has(r.uuid)),
    )
    .map((r) => ({ uuid: r.uuid, name: r.name }))
    .filter((p) => !proxied.has(p.uuid));
  const proxies = [...remoteProxies, ...clusterProxies, ...remoteProxiedNodes];
  const old = cfg.proxies.get(s.myUuid) ?? [];
  const key = (e: ProxyLogEntry): string => `${e.uuid}\0${e.name}`;
  const oldKeys = new Set(old.map(key));
  const newKeys = new Set(proxies.map(key));
  if (oldKeys.size === newKeys.size && [...oldKeys].every((k) => newKeys.has(k))) {
    output.out("No proxy changes to record.");
    return;
  }
  for (const p of normaliseProxyEntries([...old, ...proxies])) {
    const was = oldKeys.has(key(p));
    const is = newKeys.has(key(p));
    if (!was && is) output.out(`Started proxying for ${p.name}`);
    else if (was && !is) output.out(`Stopped proxying for ${p.name}`);
  }
  await recordProxies(s.branch, s.myUuid, proxies);
}

/** Orders remotes as git-annex's Set Remote does: by cost, then UUID; one per UUID and cost. */
function remoteSet(remotes: readonly Remote[]): Remote[] {
  const sorted = [...remotes].sort((a, b) => a.cost - b.cost || byteOrder(a.uuid, b.uuid));
  return sorted.filter((r, i) => {
    const prev = sorted[i - 1];
    return prev === undefined || prev.cost !== r.cost || prev.uuid !== r.uuid;
  });
}

/**
 * updatecluster's work (Command/UpdateCluster.hs `start`): for each of
 * this repository's clusters, record its nodes: the remotes configured
 * with annex-cluster-node naming it, plus recorded nodes that other
 * gateways proxy.
 */
async function updateCluster(view: ConfigView): Promise<void> {
  const { s, cfg, check, output } = view;
  const byCluster = new Map<string, Remote[]>();
  for (const r of remotesInListOrder(cfg.remotes)) {
    if (r.clusterNode.length === 0) continue;
    if (!check(r, "Cannot use this remote as a cluster node.")) continue;
    for (const name of r.clusterNode) {
      const list = byCluster.get(name);
      if (list === undefined) byCluster.set(name, [r]);
      else list.push(r);
    }
  }
  const descriptions = uuidDescriptions(
    await readUuidDescriptions(s.branch),
    cfg.remotes.filter((r) => r.uuid !== "").map((r) => [r.name, r.uuid] as const),
  );
  const names = [...cfg.clusters.keys()].sort(byteOrder);
  for (const name of names) {
    const cu = cfg.clusters.get(name) as string;
    const myNodeRemotes = remoteSet(byCluster.get(name) ?? []);
    const recorded = cfg.clusterNodes.get(cu) ?? new Set<string>();
    const proxiedNodes = cfg.remotes
      .filter((r) => recorded.has(r.uuid) && r.proxiedBy !== null)
      .map((r) => r.uuid);
    const all = new Set([...myNodeRemotes.map((r) => r.uuid), ...proxiedNodes]);
    if (all.size === recorded.size && [...all].every((u) => recorded.has(u))) {
      output.out(`No cluster node changes for cluster: ${name}`);
      continue;
    }
    for (const r of myNodeRemotes) {
      if (!recorded.has(r.uuid)) output.out(`Added node ${r.name} to cluster: ${name}`);
    }
    for (const n of [...recorded].sort(byteOrder)) {
      if (!all.has(n)) {
        output.out(`Removed node ${descriptions.get(n) ?? n} from cluster: ${name}`);
      }
    }
    await recordCluster(s.branch, cu, all);
  }
}

/** updatecluster, then updateproxy, as `git annex updatecluster` does (one view of the config). */
async function updateClusterAndProxy(s: Session, output: Output): Promise<void> {
  const view = await configView(s, output);
  await updateCluster(view);
  await updateProxy(view);
}

function noParameters(argv: readonly string[]): void {
  if (argv.length > 0) throw new UsageError("This command takes no parameters.");
}

/** `annexgate updateproxy`: record which remotes this repository proxies for. */
export async function updateProxyCommand(argv: readonly string[]): Promise<number> {
  noParameters(argv);
  return withSession(async (s) => {
    await updateProxy(await configView(s, console));
    return 0;
  });
}

/** `annexgate updatecluster`: record the nodes of this repository's clusters, then its proxies. */
export async function updateClusterCommand(argv: readonly string[]): Promise<number> {
  noParameters(argv);
  return withSession(async (s) => {
    await updateClusterAndProxy(s, console);
    return 0;
  });
}

/**
 * git-annex's side messages for a command that prints them: the merge of
 * remote branches ("recording state" too when it made a merge commit
 * rather than a fast-forward), as it happens.
 */
function announceMerge(s: Session): void {
  if (s.merged.length === 0) return;
  const names = s.merged.map((r) => r.replace(/^refs\/remotes\//, "")).join(" ");
  process.stdout.write(`(merging ${names} into git-annex...)\n`);
  if (s.mergeCommitted) process.stdout.write("(recording state in git...)\n");
}

/**
 * Commits what the command recorded, saying so as git-annex does (which
 * says it once a command has shown no merge).
 */
async function recordingState(s: Session, announcedMerge: boolean): Promise<void> {
  const after = await s.branch.commit();
  if (after !== null && !(announcedMerge && s.merged.length > 0)) {
    process.stdout.write("(recording state in git...)\n");
  }
}

/** `annexgate initcluster NAME [DESCRIPTION]`: make this repository a gateway of a new cluster. */
export async function initClusterCommand(argv: readonly string[]): Promise<number> {
  if (argv.length < 1 || argv.length > 2) {
    throw new UsageError("Expected two parameters, name and description.");
  }
  const name = argv[0] as string;
  const description = argv[1] ?? `cluster ${name}`;
  return withSession(async (s) => {
    // Stock initcluster does not read the branch, so shows no merge.
    process.stdout.write(`initcluster ${name} `);
    if (!isLegalRemoteName(name)) {
      process.stdout.write("\nfailed\n");
      printError("That cluster name is not a valid git remote name.");
      process.stderr.write("initcluster: 1 failed\n");
      return 1;
    }
    const cfg = await loadGatewayConfig(s.git, s.branch);
    if (!cfg.clusters.has(name)) {
      const cu = genClusterUuid();
      await s.git.configSet(`annex.cluster.${name}`, cu);
      await setUuidDescription(s.branch, cu, description);
    }
    process.stdout.write("ok\n");
    await recordingState(s, false);
    return 0;
  });
}

/**
 * `annexgate extendcluster GATEWAY CLUSTERNAME`: make this repository one
 * more gateway of the cluster that the remote GATEWAY serves (seen here as
 * the proxied remote GATEWAY-CLUSTERNAME), then update cluster and proxy
 * records.
 */
export async function extendClusterCommand(argv: readonly string[]): Promise<number> {
  if (argv.length !== 2) throw new UsageError("Expected two parameters, gateway and clustername.");
  const [gateway, clusterName] = argv as [string, string];
  return withSession(async (s) => {
    announceMerge(s);
    const cfg = await loadGatewayConfig(s.git, s.branch);
    const byName = (n: string): Remote => {
      const r = n === "" ? undefined : cfg.remotes.find((x) => x.name === n || x.uuid === n);
      if (r === undefined) {
        throw new UsageError(
          n === ""
            ? "no repository name specified"
            : `there is no available git remote named "${n}"`,
        );
      }
      return r;
    };
    const clusterRemoteName = `${gateway}-${clusterName}`;
    const clusterRemote = byName(clusterRemoteName);
    const gatewayRemote = byName(gateway);
    if (!isClusterUuid(clusterRemote.uuid)) {
      throw new UsageError(`${clusterRemoteName} is not a cluster remote.`);
    }
    const cu = clusterRemote.uuid;
    process.stdout.write(`extendcluster ${clusterName} `);
    if (!cfg.clusters.has(clusterName)) {
      await s.git.configSet(`annex.cluster.${clusterName}`, cu);
    }
    await s.git.configSet(`remote.${gatewayRemote.name}.annex-cluster-gateway`, cu);
    process.stdout.write("ok\n");
    await updateClusterAndProxy(s, console);
    await recordingState(s, true);
    return 0;
  });
}
