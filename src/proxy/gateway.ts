/**
 * The gateway: what one repository serves, by UUID — itself, every remote
 * it proxies for, every cluster it is a gateway of — built from its git
 * config and git-annex branch (the remotes layer decides the routes) and
 * kept current while it serves: a change to either (`annexgate
 * updatecluster`, a `git config`) is picked up on the next request.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { locationsOf, readMaxSizes } from "../branch/index.js";
import type { Key } from "../keys/index.js";
import type { LocalRepository, Peer } from "../peers/index.js";
import { currentRepoSizes, LiveSizes } from "../policy/index.js";
import {
  loadKeyState,
  loadPolicySnapshot,
  Policy,
  repositoryStability,
  wantsKey,
} from "../preferred-content/index.js";
import type { GatewayConfig, Remote, Route } from "../remotes/types.js";
import {
  type ClusterNode,
  ClusterPeer,
  type Placement,
  type PlacementDecision,
} from "./cluster-peer.js";
import { type ConnectOptions, connectRemote } from "./connect.js";
import { RemoteConnections } from "./connections.js";
import { LocationBatcher } from "./location-batcher.js";
import { ProxiedPeer } from "./proxied-peer.js";

/** The decisions the gateway takes from the remotes layer. */
export interface GatewayRouting {
  load(): Promise<GatewayConfig>;
  route(cfg: GatewayConfig, uuid: string): Route | null;
  clusterNodes(cfg: GatewayConfig, clusterUuid: string, bypass: ReadonlySet<string>): Remote[];
}

export interface GatewayOptions {
  /** The gateway repository, opened; it stays the caller's to close. */
  readonly repo: LocalRepository;
  readonly routing: GatewayRouting;
  /** Requests to cluster nodes running at once for one operation (default 8). */
  readonly clusterJobs?: number;
  readonly connect?: Omit<ConnectOptions, "gatewayUuid">;
  /** How often, at most, to look for configuration changes (ms, default 1000). */
  readonly reloadIntervalMs?: number;
  readonly log?: (line: string) => void;
}

interface Stamp {
  readonly own: string;
  readonly outside: string;
}

interface Snapshot {
  readonly cfg: GatewayConfig;
  /** Preferred content, groups, trust, numcopies: who wants what. */
  readonly policy: Policy;
  /** What the snapshot was read from: see {@link Gateway.stamp}. */
  readonly stamp: Stamp;
  readonly checkedAt: number;
}

export class Gateway {
  readonly uuid: string;
  private snapshot: Snapshot | null = null;
  private checking: Promise<Snapshot> | null = null;
  private refreshing: Promise<Snapshot> | null = null;
  private reloads: Promise<unknown> = Promise.resolve();
  private readonly unstableNoted = new WeakMap<Policy, Set<string>>();
  /** Connections to remotes, made on first use, closed when a remote leaves the configuration. */
  private readonly connections: RemoteConnections;
  private readonly proxied = new Map<string, ProxiedPeer>();
  private readonly clusters = new Map<string, ClusterPeer>();
  /**
   * Repository sizes and maxsizes, with the stores and removes this
   * gateway has in flight, so concurrent uploads cannot together overfill
   * a node.
   */
  private readonly live = new LiveSizes();
  /** Location-log writes on the gateway's branch, a key's records gathered into one change. */
  private readonly locations: LocationBatcher;
  private readonly placement: Placement = {
    prepare: (key, file) => this.decide(key, file),
    removing: (uuid, key) => this.live.beginRemove(uuid, BigInt(key.size ?? 0)),
  };

  constructor(private readonly opts: GatewayOptions) {
    this.uuid = opts.repo.uuid;
    this.locations = new LocationBatcher(opts.repo.branch);
    this.connections = new RemoteConnections(
      (remote) =>
        connectRemote(remote, {
          ...opts.connect,
          gatewayUuid: this.uuid,
          git: opts.repo.git,
          ...(opts.log ? { log: opts.log } : {}),
        }),
      opts.log,
    );
  }

  /** The Peer serving `uuid`, or null when this gateway does not serve it. */
  async lookup(uuid: string): Promise<Peer | null> {
    if (uuid === this.uuid) return this.opts.repo.peer;
    const { cfg } = await this.current();
    const route = this.opts.routing.route(cfg, uuid);
    if (route === null) return null;
    switch (route.kind) {
      case "self":
        return this.opts.repo.peer;
      case "proxied":
        return this.proxiedPeer(route.remote);
      case "cluster":
        return this.clusterPeer(route.clusterUuid);
    }
  }

  /** The gateway's configuration as of now (re-read when it changed). */
  async config(): Promise<GatewayConfig> {
    return (await this.current()).cfg;
  }

  async close(): Promise<void> {
    // A reload still reading the repository finishes before it is closed.
    await this.reloads;
    await this.connections.closeAll();
  }

  /**
   * The snapshot to answer from. At most once a second it checks whether
   * anything changed: a configuration change from outside (git config,
   * branches pushed or fetched) is waited for; when only the gateway's own
   * branch moved (its own location-log commits, or a local command), the
   * snapshot is refreshed in the background and requests go on meanwhile.
   */
  private async current(): Promise<Snapshot> {
    const s = this.snapshot;
    const interval = this.opts.reloadIntervalMs ?? 1000;
    if (s !== null && Date.now() - s.checkedAt < interval) return s;
    this.checking ??= this.check().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async check(): Promise<Snapshot> {
    const stamp = await this.stamp();
    // The latest snapshot, read after the stamp: a background reload may
    // have replaced the one there was when the check began.
    const old = this.snapshot;
    if (old !== null && old.stamp.outside === stamp.outside) {
      this.snapshot = { ...old, checkedAt: Date.now() };
      if (old.stamp.own !== stamp.own) {
        this.refreshing ??= this.reload()
          .catch((e) => {
            this.opts.log?.(`reloading the gateway configuration: ${e}`);
            return old;
          })
          .finally(() => {
            this.refreshing = null;
          });
      }
      return this.snapshot;
    }
    return this.reload();
  }

  /**
   * Reloads run one at a time, in the order asked: a later one always
   * finishes last, so an older view never replaces a newer one.
   */
  private reload(): Promise<Snapshot> {
    const next = this.reloads.then(() => this.load());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<Snapshot> {
    const { repo } = this.opts;
    // Taken first: a change made while loading is seen at the next check.
    const stamp = await this.stamp();
    // What clients pushed (git annex sync) and remotes' branches fetched
    // since: merged first, as git-annex does before it reads the branch.
    try {
      await repo.branch.mergeRemoteBranches();
    } catch (e) {
      this.opts.log?.(`merging git-annex branches in ${repo.dir}: ${e}`);
    }
    const cfg = await this.opts.routing.load();
    // Remotes gone from the configuration: their connections close once
    // unused, and their peers are made afresh if they come back.
    this.connections.retainOnly(cfg.remotes);
    const live = new Set(cfg.remotes.map(proxiedId));
    for (const id of this.proxied.keys()) if (!live.has(id)) this.proxied.delete(id);
    const clusters = new Map<string, Set<string>>();
    for (const [cluster, nodes] of cfg.clusterNodes) {
      for (const n of nodes) clusters.set(n, new Set([...(clusters.get(n) ?? []), cluster]));
    }
    const mark = this.live.mark();
    const [report, maxSizes] = await Promise.all([
      currentRepoSizes(repo.git),
      readMaxSizes(repo.branch),
    ]);
    this.live.rebase(report.sizes, mark);
    this.live.setMaxSizes(maxSizes);
    const policy = new Policy(
      await loadPolicySnapshot(repo.branch, {
        clusters,
        hereUuid: this.uuid,
        maxSizes: new Map([...maxSizes].map(([u, n]) => [u, Number(n)])),
        repoSizes: new LiveSizeView(this.live),
      }),
    );
    // Peers are kept: a proxied peer is keyed by how its remote is reached,
    // and a cluster asks for its nodes afresh on each request.
    this.snapshot = { cfg, policy, stamp, checkedAt: Date.now() };
    return this.snapshot;
  }

  /**
   * Who wants `key` and who has room for it, answered without waiting:
   * preferred content is evaluated against sizes that count the stores in
   * flight, so concurrent uploads see each other (balanced and
   * sizebalanced spread them; none overfills a node).
   */
  private async decide(key: Key, associatedFile?: string): Promise<PlacementDecision> {
    const { policy } = await this.current();
    const state = await loadKeyState(this.opts.repo.branch, key);
    const wants = (uuid: string): boolean => {
      this.noteUnstable(policy, uuid);
      // The gateway is not a node (tips/clusters): it keeps a copy only
      // when its own preferred content, set explicitly, wants it.
      if (uuid === this.uuid && !policy.snapshot.preferred.has(uuid)) return false;
      try {
        return wantsKey(policy, uuid, key, {
          state,
          ...(associatedFile !== undefined ? { file: associatedFile } : {}),
        });
      } catch (e) {
        this.opts.log?.(`preferred content of ${uuid}: ${e}`);
        return true;
      }
    };
    return {
      locations: new Set(state.locations),
      wants,
      reserve: (uuid) => this.live.reserve(uuid, BigInt(key.size ?? 0)),
    };
  }

  /**
   * An unstable expression (one that would move content back and forth)
   * never matches, as in git-annex; say so once per policy in the log, so
   * an operator wondering why a node gets nothing learns why.
   */
  private noteUnstable(policy: Policy, uuid: string): void {
    if (!this.opts.log) return;
    let noted = this.unstableNoted.get(policy);
    if (noted === undefined) {
      noted = new Set();
      this.unstableNoted.set(policy, noted);
    }
    if (noted.has(uuid)) return;
    noted.add(uuid);
    const s = repositoryStability(policy, uuid);
    if (!s.stable) {
      this.opts.log(`preferred content of ${uuid} is unstable and matches nothing: ${s.reason}`);
    }
  }

  /**
   * The gateway's own git-annex branch tip, and apart from it what only
   * changes from outside: the branches clients push (synced/git-annex)
   * and remotes' fetched branches, and the git config file's mtime.
   */
  private async stamp(): Promise<Stamp> {
    const { git } = this.opts.repo;
    const refs = (
      await git.run([
        "for-each-ref",
        "--format=%(objectname) %(refname)",
        "refs/heads/git-annex",
        "refs/heads/synced/git-annex",
        "refs/remotes/",
      ])
    )
      .toString("utf8")
      .split("\n")
      .filter((l) => l.endsWith("/git-annex"));
    let mtime = 0;
    try {
      mtime = (await stat(join(git.gitDir, "config"))).mtimeMs;
    } catch {
      // no config file: nothing configured
    }
    const own = refs.find((l) => l.endsWith(" refs/heads/git-annex")) ?? "";
    return { own, outside: `${refs.filter((l) => l !== own).join(" ")} ${mtime}` };
  }

  private proxiedPeer(remote: Remote): Peer {
    const id = proxiedId(remote);
    let p = this.proxied.get(id);
    if (p === undefined) {
      p = new ProxiedPeer({
        node: this.connections.peerFor(remote),
        record: (key, uuid, present) => this.locations.record(key, uuid, present),
        onRecordError: (e) => this.opts.log?.(`recording location of ${remote.name}: ${e}`),
      });
      this.proxied.set(id, p);
    }
    return p;
  }

  private clusterPeer(clusterUuid: string): ClusterPeer {
    let c = this.clusters.get(clusterUuid);
    if (c === undefined) {
      c = new ClusterPeer({
        uuid: clusterUuid,
        gatewayUuid: this.uuid,
        jobs: this.opts.clusterJobs ?? 8,
        nodes: async (bypass) => {
          const { cfg } = await this.current();
          return this.opts.routing
            .clusterNodes(cfg, clusterUuid, bypass)
            .map((r): ClusterNode => ({ peer: this.proxiedPeer(r), cost: r.cost }));
        },
        locations: async (key) => new Set(await locationsOf(this.opts.repo.branch, key)),
        placement: this.placement,
        gateway: { peer: this.opts.repo.peer },
        ...(this.opts.log ? { log: this.opts.log } : {}),
      });
      this.clusters.set(clusterUuid, c);
    }
    return c;
  }
}

/**
 * Repository sizes as preferred content reads them (by `get`), taken from
 * the live sizes at the moment of asking, stores in flight included.
 */
class LiveSizeView extends Map<string, number> {
  constructor(private readonly live: LiveSizes) {
    super();
  }
  override get(uuid: string): number {
    return Number(this.live.size(uuid));
  }
  override has(): boolean {
    return true;
  }
}

/** A proxied remote's peer is kept per name and per way of reaching it. */
function proxiedId(remote: Remote): string {
  return `${remote.uuid} ${remote.name} ${JSON.stringify(remote.transport)}`;
}
