/**
 * Building a {@link GatewayConfig}: the repository's remotes from git
 * config (Remote/Git.hs `list`, Types/GitConfig.hs), the remotes proxied
 * through them from proxy.log (Remote/Git.hs `listProxied`), and the
 * cluster records (Logs/Cluster.hs).
 */
import {
  type AnnexBranch,
  isLegalRemoteName,
  readClusters,
  readProxies,
  readRemoteConfigs,
} from "../branch/index.js";
import { Git, GitConfigValues } from "../git/index.js";
import { isClusterUuid } from "../keys/index.js";
import { readDouble } from "../sizes/index.js";
import { insteadOf, remoteNameOfKey } from "./git-config.js";
import { isP2PHttpUrl, parseLocation } from "./location.js";
import { specialRemoteOf } from "./special.js";
import type {
  GatewayConfig,
  ProxyEntry,
  Remote,
  RemoteTransport,
  SpecialRemoteConfig,
} from "./types.js";

/** git-annex's default costs (Config/Cost.hs). */
export const CHEAP_REMOTE_COST = 100;
export const EXPENSIVE_REMOTE_COST = 200;
/** What a cluster node proxied along with its cluster adds to the proxy's default cost. */
const PROXIED_NODE_COST_ADJUST = 0.1;

/** A remote as read from git config, with what listing proxied remotes needs. */
interface ConfiguredRemote {
  readonly remote: Remote;
  /** git-annex's `canproxy` for it. */
  readonly canProxy: boolean;
  /** The UUID its proxy.log entry is under (`annex-config-uuid`, else its UUID). */
  readonly configUuid: string;
  /** The default cost of its location (100 cheap, 200 otherwise). */
  readonly defaultCost: number;
  /** `remote.NAME.annex-cost` (or `annex.cost`), when set and readable. */
  readonly configuredCost: number | null;
}

/** `reads` of a Haskell Float, first parse only (git-annex's `readish`): "150", "1.5e2", "-3". */
function readCost(v: string | null): number | null {
  return v === null ? null : (readDouble(v)?.value ?? null);
}

/** A remote setting: `remote.NAME.annex-FIELD`, else `annex.FIELD` (git-annex's fallback). */
function remoteSetting(config: GitConfigValues, name: string, field: string): string | null {
  return config.get(`remote.${name}.annex-${field}`) ?? config.get(`annex.${field}`);
}

function remoteBool(config: GitConfigValues, name: string, field: string): boolean {
  return (
    config.getBool(`remote.${name}.annex-${field}`) ?? config.getBool(`annex.${field}`) ?? false
  );
}

/** `annex.cluster.NAME` settings whose value is a cluster UUID (Types/GitConfig.hs `annexClusters`). */
export function clustersOfConfig(config: GitConfigValues): Map<string, string> {
  const prefix = "annex.cluster.";
  const out = new Map<string, string>();
  for (const key of config.keys()) {
    if (!key.startsWith(prefix)) continue;
    const value = config.get(key);
    if (value !== null && isClusterUuid(value)) out.set(key.slice(prefix.length), value);
  }
  return out;
}

/** The remote names that git config has any `remote.NAME.*` setting for, in first-seen order. */
function remoteNames(config: GitConfigValues): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const key of config.keys()) {
    const n = remoteNameOfKey(key);
    if (n !== null && !seen.has(n)) {
      seen.add(n);
      names.push(n);
    }
  }
  return names;
}

/** remote.log: config UUID → fields (sameas inheritance applied). */
type RemoteConfigs = ReadonlyMap<string, ReadonlyMap<string, string>>;

function configuredRemote(
  config: GitConfigValues,
  name: string,
  repoDir: string,
  remoteConfigs: RemoteConfigs,
): ConfiguredRemote | null {
  const url = config.get(`remote.${name}.url`);
  const uuid = config.get(`remote.${name}.annex-uuid`) ?? "";
  const configUuid = config.get(`remote.${name}.annex-config-uuid`) ?? uuid;
  let transport: RemoteTransport;
  let defaultCost: number;
  let costAdjust = 0;
  let special: SpecialRemoteConfig | undefined;
  let canProxy: boolean;
  if (url !== null && url !== "") {
    // git-remote-annex remotes are not remotes to git-annex.
    if (url.startsWith("annex::")) return null;
    const annexUrl =
      config.get(`remote.${name}.annexurl`) ?? insteadOf(config, url, "annexinsteadof");
    const p2phttp = annexUrl !== null && isP2PHttpUrl(annexUrl) ? annexUrl : null;
    const raw = annexUrl !== null && p2phttp === null ? annexUrl : url;
    const location = insteadOf(config, raw, "insteadof") ?? raw;
    const loc = parseLocation(location, repoDir, p2phttp);
    transport = loc.transport;
    defaultCost = loc.cheap ? CHEAP_REMOTE_COST : EXPENSIVE_REMOTE_COST;
    canProxy = loc.canProxy && (p2phttp !== null || !remoteBool(config, name, "git-lfs"));
  } else {
    // A special remote (directory, S3, ...), listed with or without a UUID
    // as git-annex lists it. It cannot proxy (canproxy is for git remotes).
    const s = specialRemoteOf(config, name, configUuid, remoteConfigs, repoDir);
    if (s === null) return null;
    transport = s.transport;
    defaultCost = s.defaultCost;
    costAdjust = s.costAdjust;
    special = s.config;
    canProxy = false;
  }
  const configuredCost = readCost(remoteSetting(config, name, "cost"));
  const clusterNode = (remoteSetting(config, name, "cluster-node") ?? "")
    .split(/\s+/)
    .filter((n) => n !== "" && isLegalRemoteName(n));
  const clusterGateway = (remoteSetting(config, name, "cluster-gateway") ?? "")
    .split(/\s+/)
    .filter((u) => u !== "" && isClusterUuid(u));
  const remote: Remote = {
    name,
    uuid,
    cost: (configuredCost ?? defaultCost) + costAdjust,
    transport,
    proxy: remoteBool(config, name, "proxy"),
    clusterNode,
    clusterGateway,
    proxiedBy: remoteSetting(config, name, "proxied-by"),
    ignore: remoteBool(config, name, "ignore"),
    ...(special === undefined ? {} : { special }),
  };
  return {
    remote,
    canProxy,
    configUuid,
    defaultCost,
    configuredCost,
  };
}

/**
 * The remotes proxied through `proxies` (Remote/Git.hs `listProxied`): for
 * each remote that can proxy and has proxy.log entries, one remote per
 * entry, named `PROXY-NAME`, reached the way the proxy is, unless git
 * config already has a `remote.PROXY-NAME.*` setting. It inherits the
 * proxy's cost (a cluster node proxied along with its cluster costs the
 * proxy's default plus 0.1), `annex-ignore` and `annex-proxy` (which is
 * what lets proxies chain).
 */
function listProxied(
  config: GitConfigValues,
  configured: readonly ConfiguredRemote[],
  proxies: ReadonlyMap<string, readonly ProxyEntry[]>,
  clusterNodes: ReadonlyMap<string, ReadonlySet<string>>,
): Remote[] {
  const out: Remote[] = [];
  const made = new Set<string>();
  for (const c of configured) {
    if (!c.canProxy || c.configUuid === "") continue;
    const entries = proxies.get(c.configUuid);
    if (entries === undefined) continue;
    const proxiedUuids = new Set(entries.map((e) => e.uuid));
    for (const e of entries) {
      const name = `${c.remote.name}-${e.name}`;
      const prefix = `remote.${name}.`;
      if (made.has(name) || [...config.keys()].some((k) => k.startsWith(prefix))) continue;
      made.add(name);
      const nodeOfProxiedCluster = [...clusterNodes].some(
        ([cu, nodes]) => nodes.has(e.uuid) && proxiedUuids.has(cu),
      );
      out.push({
        name,
        uuid: e.uuid,
        cost: nodeOfProxiedCluster
          ? c.defaultCost + PROXIED_NODE_COST_ADJUST
          : (c.configuredCost ?? c.defaultCost),
        transport: c.remote.transport,
        proxy: c.remote.proxy,
        clusterNode: [],
        clusterGateway: [],
        proxiedBy: c.remote.uuid === "" ? null : c.remote.uuid,
        ignore: c.remote.ignore,
      });
    }
  }
  return out;
}

/** Sorts remotes by cost, keeping the order of equal-cost ones. */
function byCost(remotes: readonly Remote[]): Remote[] {
  return remotes
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.cost - b.r.cost || a.i - b.i)
    .map((x) => x.r);
}

/**
 * Builds the gateway configuration from parsed git config and branch
 * records. Exposed for tests and for callers that already hold them.
 */
export function gatewayConfigFrom(
  config: GitConfigValues,
  repoDir: string,
  proxies: ReadonlyMap<string, readonly ProxyEntry[]>,
  clusterNodes: ReadonlyMap<string, ReadonlySet<string>>,
  remoteConfigs: RemoteConfigs = new Map(),
): GatewayConfig {
  const configured: ConfiguredRemote[] = [];
  for (const name of remoteNames(config)) {
    const c = configuredRemote(config, name, repoDir, remoteConfigs);
    if (c !== null) configured.push(c);
  }
  const proxied = listProxied(config, configured, proxies, clusterNodes);
  return {
    uuid: config.get("annex.uuid") ?? "",
    clusters: clustersOfConfig(config),
    proxies,
    clusterNodes,
    remotes: byCost([...proxied, ...configured.map((c) => c.remote)]),
  };
}

/**
 * Reads what the gateway serves: git config (once, `git config -z
 * --list`) and the git-annex branch's proxy.log, cluster.log and
 * remote.log (journal included; dead nodes left out of clusters).
 *
 * Remotes: every git remote with a URL (`annex::` ones excepted) and every
 * special remote (no URL, a type marked in git config; directory and S3
 * ones reachable, others "unsupported", see special.ts). A remote with no
 * `annex-uuid` is listed with uuid "" so that commands can warn about it;
 * no route ever leads to it.
 * Proxied remotes are derived from proxy.log as git-annex does. The list
 * is sorted by cost; equal costs keep config order, proxied remotes first.
 */
export async function loadGatewayConfig(git: Git, branch: AnnexBranch): Promise<GatewayConfig> {
  const config = await GitConfigValues.read(git);
  const proxies = await readProxies(branch);
  const clusterNodes = await readClusters(branch);
  const remoteConfigs = await readRemoteConfigs(branch);
  return gatewayConfigFrom(config, git.dir, proxies, clusterNodes, remoteConfigs);
}

/**
 * Learns the UUIDs of local git remotes the way git-annex does each time
 * it lists remotes (Remote/Git.hs `configRead`: for a local remote, unless
 * `annex-ignore` is set or `annex-checkuuid` is false, its git config is
 * read and its `annex.uuid` cached as `remote.NAME.annex-uuid`). Remotes
 * reached over the network are not contacted. Returns the names of the
 * remotes whose UUID was recorded or changed.
 */
export async function learnLocalRemoteUuids(git: Git): Promise<string[]> {
  const config = await GitConfigValues.read(git);
  const learned: string[] = [];
  for (const name of remoteNames(config)) {
    const c = configuredRemote(config, name, git.dir, new Map());
    if (c === null || c.remote.ignore) continue;
    if (config.getBool(`remote.${name}.annex-checkuuid`) === false) continue;
    // Whether the git URL is a path decides, even when an annexurl says how
    // annex content is reached (git-annex's repoCheap looks at the URL).
    const url = config.get(`remote.${name}.url`) ?? "";
    if (url === "") continue; // a special remote
    const at = parseLocation(insteadOf(config, url, "insteadof") ?? url, git.dir, null).transport;
    if (at.kind !== "local") continue;
    let uuid: string | null;
    try {
      uuid = await (await Git.open(at.path)).configGet("annex.uuid");
    } catch {
      continue; // not (yet) a repository: git-annex leaves it unknown too
    }
    if (uuid === null || uuid === "" || uuid === c.remote.uuid) continue;
    await git.configSet(`remote.${name}.annex-uuid`, uuid);
    learned.push(name);
  }
  return learned;
}
