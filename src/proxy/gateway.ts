/**
 * The gateway: what one repository serves, by UUID — itself, every remote
 * it proxies for, every cluster it is a gateway of. It only wires units
 * together: the configuration and policy snapshots (GatewaySnapshots), the
 * placement over policy and live sizes (the policy layer's LivePlacement),
 * the connections to remotes (RemoteConnections) and the location log on
 * its branch (LocationBatcher); the remotes layer decides the routes.
 */
import { join } from "node:path";
import { readChunkListings, recordChunks } from "../branch/index.js";
import type { Key } from "../keys/index.js";
import { processFcntlLocks } from "../locks/index.js";
import type { LocalRepository, Peer, PeerContext } from "../peers/index.js";
import { LivePlacement, SharedLiveSizes } from "../policy/index.js";
import { loadKeyState } from "../preferred-content/index.js";
import type { GatewayConfig, Remote, Route } from "../remotes/index.js";
import { errorText, type Logger } from "../util/index.js";
import { type ClusterNode, ClusterPeer } from "./cluster-peer.js";
import { type ConnectOptions, connectRemote } from "./connect.js";
import { RemoteConnections } from "./connections.js";
import { type GatewayOverview, gatewayOverview, remotesBehind } from "./gateway-overview.js";
import { GatewaySnapshots } from "./gateway-snapshot.js";
import {
  type IndirectCandidate,
  type IndirectSettings,
  IndirectUploads,
} from "./indirect-uploads.js";
import { LocationBatcher } from "./location-batcher.js";
import type { NodeObserver } from "./node-observer.js";
import { NodeProbes, type NodeReachability } from "./node-probes.js";
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
  readonly logger?: Logger;
  /** Told of every call to a node and of every upload fanned out (the metrics). */
  readonly observer?: NodeObserver;
  /** Offer indirect uploads (annexgate's extension), with these settings. */
  readonly indirect?: IndirectSettings;
}

export class Gateway {
  readonly uuid: string;
  /** Configuration and policy, re-read when they change. */
  readonly #snapshots: GatewaySnapshots;
  /** Connections to remotes, made on first use, closed when a remote leaves the configuration. */
  readonly #connections: RemoteConnections;
  /** Location-log reads and writes on the gateway's branch, a key's records gathered into one change. */
  readonly #locations: LocationBatcher;
  /** Who wants an upload and who has room, the uploads in flight counted. */
  readonly #placement: LivePlacement;
  readonly #proxied = new Map<string, ProxiedPeer>();
  readonly #clusters = new Map<string, ClusterPeer>();
  /** Each cluster's nodes for a client's own request, per configuration. */
  readonly #usualNodes = new WeakMap<GatewayConfig, Map<string, readonly ClusterNode[]>>();
  /** Sizes with the stores in flight, shared with the other annexgate processes of this repository. */
  readonly #live: SharedLiveSizes;
  readonly #probes = new NodeProbes();
  /** Indirect uploads, when they are offered. */
  readonly indirect: IndirectUploads | undefined;

  readonly #opts: GatewayOptions;
  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    const { repo, logger } = opts;
    this.uuid = repo.uuid;
    this.#locations = new LocationBatcher(repo.branch);
    this.#connections = new RemoteConnections(
      (remote) =>
        connectRemote(remote, {
          ...opts.connect,
          gatewayUuid: this.uuid,
          git: repo.git,
          chunkLog: {
            chunkListings: (uuid, key) => readChunkListings(repo.branch, uuid, key),
            recordChunks: (uuid, key, size, count) =>
              recordChunks(repo.branch, uuid, key, size, count),
          },
          branch: repo.branch,
          ...(logger ? { logger: logger.child({ node: remote.name, nodeUuid: remote.uuid }) } : {}),
        }),
      { ...(logger ? { logger } : {}), ...(opts.observer ? { observer: opts.observer } : {}) },
    );
    // Sizes are shared by the snapshots (which rebase them on the branch)
    // and the placement (which holds room in them), and with the other
    // processes serving this repository (each ssh login is one), so
    // concurrent uploads cannot together overfill a node.
    const live = new SharedLiveSizes({
      dir: join(repo.git.gitDir, "annex", "annexgate", "live"),
      locks: processFcntlLocks(),
      ...(logger ? { logger } : {}),
    });
    this.#live = live;
    this.#snapshots = new GatewaySnapshots({
      repo,
      live,
      loadConfig: () => opts.routing.load(),
      onConfig: (cfg) => this.#retainOnly(cfg),
      ...(opts.reloadIntervalMs !== undefined ? { intervalMs: opts.reloadIntervalMs } : {}),
      ...(logger ? { logger } : {}),
    });
    this.indirect = opts.indirect && this.#indirectUploads(opts.indirect);
    this.#placement = new LivePlacement({
      gatewayUuid: this.uuid,
      policy: async () => (await this.#snapshots.current()).policy,
      keyState: (key) => loadKeyState(repo.branch, key),
      live,
      ...(logger ? { logger } : {}),
    });
  }

  /** The Peer serving `uuid`, or null when this gateway does not serve it. */
  async lookup(uuid: string): Promise<Peer | null> {
    if (uuid === this.uuid) return this.#opts.repo.peer;
    const { cfg } = await this.#snapshots.current();
    const route = this.#opts.routing.route(cfg, uuid);
    if (route === null) return null;
    switch (route.kind) {
      case "self":
        return this.#opts.repo.peer;
      case "proxied":
        return this.#proxiedPeer(route.remote);
      case "cluster":
        return this.#clusterPeer(route.clusterUuid);
    }
  }

  /** What the gateway serves now, with live sizes (for metrics and the dashboard). */
  async overview(): Promise<GatewayOverview> {
    const { cfg } = await this.#snapshots.current();
    return gatewayOverview(cfg, this.#opts.routing, this.#live);
  }

  /** Whether each repository behind the gateway answers (probed, answers kept a while). */
  async reachability(): Promise<NodeReachability[]> {
    const { cfg } = await this.#snapshots.current();
    const { remotes } = remotesBehind(cfg, this.#opts.routing);
    this.#probes.retainOnly(new Set(remotes.map((r) => r.uuid)));
    return Promise.all(
      remotes.map((r) => this.#probes.reachability(r, this.#connections.peerFor(r))),
    );
  }

  /** The gateway's configuration as of now (re-read when it changed). */
  async config(): Promise<GatewayConfig> {
    return (await this.#snapshots.current()).cfg;
  }

  async close(): Promise<void> {
    this.indirect?.close();
    // A reload still reading the repository finishes before it is closed.
    await this.#snapshots.settle();
    await this.#connections.closeAll();
    await this.#live.close();
  }

  /**
   * Remotes gone from the configuration: their connections close once
   * unused, and their peers are made afresh if they come back. Peers are
   * otherwise kept: a proxied peer is keyed by how its remote is reached,
   * and a cluster asks for its nodes afresh on each request.
   */
  #retainOnly(cfg: GatewayConfig): void {
    this.#connections.retainOnly(cfg.remotes);
    const live = new Set(cfg.remotes.map(proxiedId));
    for (const id of this.#proxied.keys()) if (!live.has(id)) this.#proxied.delete(id);
  }

  #indirectUploads(settings: IndirectSettings): IndirectUploads {
    const logger = this.#opts.logger;
    return new IndirectUploads({
      settings,
      candidates: (uuid, key, af, ctx) => this.#indirectCandidates(uuid, key, af, ctx),
      connection: (remote) => this.#connections.use(remote),
      record: (key, uuid, present) => this.#locations.record(key, uuid, present),
      ...(logger ? { logger } : {}),
      ...(this.#opts.observer ? { observer: this.#opts.observer } : {}),
    });
  }

  /**
   * Where an indirect upload to `uuid` may go: the proxied remote itself;
   * for a cluster, the nodes a put would go to, in its order.
   */
  async #indirectCandidates(
    uuid: string,
    key: Key,
    associatedFile: string | undefined,
    ctx: PeerContext,
  ): Promise<readonly IndirectCandidate[] | string> {
    const notHere = "the repository itself takes no indirect uploads";
    if (uuid === this.uuid) return notHere;
    const { cfg } = await this.#snapshots.current();
    const route = this.#opts.routing.route(cfg, uuid);
    if (route === null || route.kind === "self") return notHere;
    if (route.kind === "proxied") {
      return [{ remote: route.remote, peer: this.#proxiedPeer(route.remote), plus: [] }];
    }
    const bypass = new Set([...(ctx.bypass ?? []), this.uuid]);
    const remotes = this.#opts.routing.clusterNodes(cfg, route.clusterUuid, bypass);
    const byUuid = new Map(remotes.map((r) => [r.uuid, r]));
    const nodes = await this.#clusterPeer(route.clusterUuid).uploadNodes(key, associatedFile, ctx);
    return nodes.flatMap((peer) => {
      const remote = byUuid.get(peer.uuid);
      return remote ? [{ remote, peer, plus: [peer.uuid] }] : [];
    });
  }

  #proxiedPeer(remote: Remote): Peer {
    const id = proxiedId(remote);
    let p = this.#proxied.get(id);
    if (p === undefined) {
      p = new ProxiedPeer({
        node: this.#connections.peerFor(remote),
        record: (key, uuid, present) => this.#locations.record(key, uuid, present),
        onRecordError: (e) =>
          this.#opts.logger?.error(
            { node: remote.name, nodeUuid: remote.uuid, err: errorText(e) },
            "recording a location failed",
          ),
      });
      this.#proxied.set(id, p);
    }
    return p;
  }

  #clusterPeer(clusterUuid: string): ClusterPeer {
    let c = this.#clusters.get(clusterUuid);
    if (c === undefined) {
      c = new ClusterPeer({
        uuid: clusterUuid,
        gatewayUuid: this.uuid,
        jobs: this.#opts.clusterJobs ?? 8,
        nodes: async (bypass) => {
          const { cfg } = await this.#snapshots.current();
          // A client's own request bypasses only this gateway: its nodes are
          // the same until the configuration changes (asked at every request).
          const usual = bypass.size === 1 && bypass.has(this.uuid);
          const kept = usual ? this.#usualNodes.get(cfg)?.get(clusterUuid) : undefined;
          if (kept !== undefined) return kept;
          const nodes = this.#opts.routing
            .clusterNodes(cfg, clusterUuid, bypass)
            .map((r): ClusterNode => ({ peer: this.#proxiedPeer(r), cost: r.cost }));
          if (usual) {
            const byCluster = this.#usualNodes.get(cfg) ?? new Map();
            this.#usualNodes.set(cfg, byCluster.set(clusterUuid, Object.freeze(nodes)));
          }
          return nodes;
        },
        locations: (key) => this.#locations.locations(key),
        placement: this.#placement,
        gateway: { peer: this.#opts.repo.peer },
        ...(this.#opts.logger ? { logger: this.#opts.logger } : {}),
        ...(this.#opts.observer ? { observer: this.#opts.observer } : {}),
      });
      this.#clusters.set(clusterUuid, c);
    }
    return c;
  }
}

/** A proxied remote's peer is kept per name and per way of reaching it. */
function proxiedId(remote: Remote): string {
  return `${remote.uuid} ${remote.name} ${JSON.stringify(remote.transport)}`;
}
