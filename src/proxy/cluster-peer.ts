// Over 400 lines: one Peer, eight operations over one node set (the choices are in policy/).
/**
 * A cluster: one repository to its clients, made of the node Peers behind
 * the gateway (and, for a cluster with several gateways, the same cluster
 * reached through the other gateways). The choices follow git-annex's
 * (Annex/Cluster.hs, P2P/Proxy.hs):
 *
 * - store goes to every node that does not already have the key and wants
 *   it by preferred content (else every node without it, else all), in one
 *   stream to all of them at once; the answer names the nodes that
 *   stored a verified copy (not those that already had it), or, when every
 *   one already had it, those;
 * - retrieve and checkPresent ask a node the location log says has the
 *   key, cheapest and least busy first, then the next;
 * - remove goes to every node (and to the gateway only when it holds a
 *   copy, so the gateway is named only when a copy of its really went);
 *   content is not locked on a cluster as a
 *   whole (the nodes are proxied to the client to lock on).
 *
 * The rules themselves (which nodes, in which order, what the gateway's
 * own copy counts for) are the policy layer's pure functions; node Peers
 * record location changes on the gateway's branch themselves
 * (ProxiedPeer), so this module only applies the choices and fans out.
 */
import { finished, type Readable } from "node:stream";
import { type Key, type Verification, verificationFor } from "../keys/index.js";
import {
  LazySignalContext,
  LOCK_UNSUPPORTED,
  type LockResult,
  monotonicSeconds,
  type Peer,
  type PeerContext,
  PeerError,
  type PresenceResult,
  type PutOffsetResult,
  type RemoveResult,
  type RetrieveResult,
  type StoreRequest,
  type StoreResult,
} from "../peers/index.js";
import {
  type ClusterIdentity,
  GATEWAY_COST,
  isClusterCopy,
  type Placement,
  type PlacementDecision,
  readOrder,
  type SpaceHold,
  uploadTargets,
} from "../policy/index.js";
import { errorText, forEachBounded, type Logger } from "../util/index.js";
import { FanOut } from "./fan-out.js";
import type { NodeObserver } from "./node-observer.js";

export type { Placement, PlacementDecision, SpaceHold };

export interface ClusterNode {
  readonly peer: Peer;
  /** Lower is preferred for retrieves, as git-annex's remote cost. */
  readonly cost: number;
}

interface Target {
  readonly node: ClusterNode;
  readonly hold: SpaceHold;
}

export interface ClusterPeerOptions {
  /** The cluster's UUID. */
  readonly uuid: string;
  /**
   * The nodes to use for a request, lowest cost first. `bypass` holds the
   * gateways the request has already passed through (this one included);
   * the same cluster behind one of them must not be among the nodes.
   */
  readonly nodes: (bypass: ReadonlySet<string>) => Promise<readonly ClusterNode[]>;
  /** This gateway's UUID, added to the bypass list passed on to other gateways. */
  readonly gatewayUuid: string;
  /** UUIDs the gateway's location log lists for the key. */
  readonly locations: (key: Key) => Promise<ReadonlySet<string>>;
  /**
   * Preferred content and room on the nodes. Default: every node wants
   * every key and has room for it.
   */
  readonly placement?: Placement;
  /**
   * The gateway's own repository. It is not a node: an upload is stored
   * there too only when the placement says the gateway wants it, a
   * retrieve is served from it first when it has the key, and a remove
   * removes its copy as well (the gateway is left alone when it has none).
   */
  readonly gateway?: { readonly peer: Peer };
  /** Requests to nodes running at once for one operation (default 8). */
  readonly jobs?: number;
  readonly logger?: Logger;
  /** Told of each upload fanned out (the metrics). */
  readonly observer?: Pick<NodeObserver, "fanOut">;
}

const NO_UUIDS: readonly string[] = [];

/**
 * One hash of a whole upload as it streams past, for all the nodes it goes
 * to: `matches` resolves when the source ends (false if it fails). Null for
 * keys without a hash to check (WORM, URL, unknown hashes): each node then
 * checks what it can itself.
 */
function contentCheck(
  key: Key,
  source: Readable,
): { update: (chunk: Buffer) => void; matches: Promise<boolean> } | null {
  let verification: Verification;
  try {
    verification = verificationFor(key);
  } catch {
    return null;
  }
  if (verification.kind !== "hash") return null;
  const verifier = verification.create();
  // finished() also answers for a source that ended or failed before this
  // check was made (the cluster asks its nodes for offsets first).
  const matches = new Promise<boolean>((resolve) => {
    finished(source, { writable: false }, (err) => resolve(!err && verifier.matches()));
  });
  return { update: (chunk) => verifier.update(chunk), matches };
}
const NO_HOLD: SpaceHold = { commit() {}, release() {} };
const EVERY_NODE: PlacementDecision = {
  wants: () => true,
  reserve: async (uuids) => uuids.map(() => NO_HOLD),
};

export class ClusterPeer implements Peer {
  readonly uuid: string;
  readonly target = "cluster";
  readonly #jobs: number;
  /** Retrieves running per node, to spread reads over equally cheap nodes. */
  readonly #busy = new Map<string, number>();

  /** The gateway's own repository, as a target or source of the cheapest kind (see own-copy rule). */
  readonly #gatewayNode: ClusterNode | null;
  readonly #identity: ClusterIdentity;

  readonly #opts: ClusterPeerOptions;
  constructor(opts: ClusterPeerOptions) {
    this.#opts = opts;
    this.uuid = opts.uuid;
    this.#jobs = Math.max(1, opts.jobs ?? 8);
    this.#gatewayNode = opts.gateway ? { peer: opts.gateway.peer, cost: GATEWAY_COST } : null;
    this.#identity = { clusterUuid: opts.uuid, gatewayUuid: opts.gatewayUuid };
  }

  /** A node's failure, worked around (another node, or the answer says so): logged. */
  #nodeFailed(op: string, node: string, e: unknown, ctx: PeerContext | undefined): void {
    this.#opts.logger?.warn(
      { reqId: ctx?.requestId, cluster: this.uuid, node, op, err: errorText(e) },
      `${op} on ${node} failed`,
    );
  }

  async checkPresent(key: Key, ctx?: PeerContext): Promise<PresenceResult> {
    // The gateway's own copy is not a copy in the cluster (it is not a node).
    for (const node of await this.#nodeHolders(key, ctx)) {
      try {
        if ((await node.peer.checkPresent(key, this.#relayed(ctx))).present)
          return { present: true };
      } catch (e) {
        this.#nodeFailed("checkpresent", node.peer.uuid, e, ctx);
      }
    }
    return { present: false };
  }

  async lockContent(): Promise<LockResult> {
    return LOCK_UNSUPPORTED;
  }

  async remove(key: Key, opts?: { before?: number }, ctx?: PeerContext): Promise<RemoveResult> {
    const clusterNodes = await this.#nodes(ctx);
    // As git-annex: no node to remove from is a failure, whatever the gateway holds.
    if (clusterNodes.length === 0) return { removed: false, plusUuids: NO_UUIDS };
    // git-annex never touches (or names) the gateway; here its own copy goes
    // too, so it is asked only when it has one: removing nothing would
    // "succeed" and name it in the answer.
    const nodes = [...clusterNodes, ...(await this.#gatewayHolding(key))];
    // Only a node that had the key gets room back when it is removed.
    const placement = this.#opts.placement;
    const locs = placement ? await this.#opts.locations(key) : new Set<string>();
    const results = await this.#forEach(nodes, async (node) => {
      // A deadline on this gateway's clock becomes one on the node's own
      // clock: the time left, counted from the node's "now". The node's
      // time is asked first, so a slow answer shortens the time left
      // rather than stretching it past the client's deadline.
      let before: number | undefined;
      if (opts?.before !== undefined) {
        const nodeNow = await node.peer.getTimestamp(this.#relayed(ctx));
        before = nodeNow + (opts.before - monotonicSeconds());
      }
      const hold =
        placement && locs.has(node.peer.uuid) ? placement.removing(node.peer.uuid, key) : NO_HOLD;
      try {
        const r = await node.peer.remove(
          key,
          before === undefined ? {} : { before },
          this.#relayed(ctx),
        );
        if (r.removed) hold.commit();
        else hold.release();
        return r;
      } catch (e) {
        hold.release();
        throw e;
      }
    });
    const removedFrom: string[] = [];
    let all = true;
    results.forEach((r, i) => {
      const uuid = (nodes[i] as ClusterNode).peer.uuid;
      // The gateway's copy going or staying does not decide the answer.
      const node = isClusterCopy(uuid, this.#identity);
      if (r instanceof Error) {
        if (node) all = false;
        this.#nodeFailed("remove", uuid, r, ctx);
      } else if (r.removed) {
        removedFrom.push(uuid, ...r.plusUuids);
      } else {
        if (node) all = false;
        removedFrom.push(...r.plusUuids);
      }
    });
    return { removed: all, plusUuids: this.#plus(removedFrom) };
  }

  async getTimestamp(): Promise<number> {
    return monotonicSeconds();
  }

  async putOffset(key: Key, ctx?: PeerContext): Promise<PutOffsetResult> {
    const targets = (await this.#targets(key, ctx?.associatedFile, false, ctx)).map((t) => t.node);
    const offsets = await this.#forEach(targets, (n) => n.peer.putOffset(key, this.#relayed(ctx)));
    const holders: string[] = [];
    let nodeHolds = false;
    let offset: number | null = null;
    offsets.forEach((r, i) => {
      if (r instanceof Error) return;
      const uuid = (targets[i] as ClusterNode).peer.uuid;
      if (r.alreadyHave) {
        holders.push(uuid, ...r.plusUuids);
        nodeHolds ||= isClusterCopy(uuid, this.#identity);
      } else {
        offset = offset === null ? r.offset : Math.min(offset, r.offset);
      }
    });
    if (offset !== null) return { alreadyHave: false, offset };
    // Only a node's copy makes the cluster have it.
    if (nodeHolds) return { alreadyHave: true, plusUuids: this.#plus(holders) };
    throw new PeerError(`no node of cluster ${this.uuid} could be reached`, { key });
  }

  async store(req: StoreRequest, ctx?: PeerContext): Promise<StoreResult> {
    const started = performance.now();
    const targets = await this.#targets(req.key, req.associatedFile, true, ctx);
    const offsets = await this.#forEach(
      targets.map((t) => t.node),
      (n) => n.peer.putOffset(req.key, this.#relayed(ctx)),
    );
    const holders: string[] = [];
    const receivers: { node: ClusterNode; skip: number; hold: SpaceHold }[] = [];
    offsets.forEach((r, i) => {
      const { node, hold } = targets[i] as Target;
      if (r instanceof Error) {
        hold.release();
      } else if (r.alreadyHave) {
        hold.release();
        holders.push(node.peer.uuid, ...r.plusUuids);
      } else if (r.offset < req.offset) {
        // A node that has less than the sender leaves out cannot be given
        // the whole content from this upload.
        hold.release();
      } else {
        receivers.push({ node, skip: r.offset - req.offset, hold });
      }
    });
    const check = req.offset === 0 ? contentCheck(req.key, req.data) : null;
    const fan = new FanOut(
      req.data,
      receivers.map((r) => r.skip),
      check?.update,
    );
    const stored = await Promise.all(
      receivers.map(async ({ node, skip, hold }, i) => {
        const data = fan.outputs[i];
        let stored = false;
        if (!data) return NO_UUIDS;
        try {
          const r = await node.peer.store(
            {
              key: req.key,
              offset: req.offset + skip,
              length: Math.max(0, req.length - skip),
              data,
              ...(req.associatedFile !== undefined ? { associatedFile: req.associatedFile } : {}),
              // Hashed once here for every node that gets all of it.
              ...(check !== null && skip === 0 ? { checkedBySender: check.matches } : {}),
            },
            this.#relayed(ctx),
          );
          stored = r.stored;
          return r.stored ? [node.peer.uuid, ...r.plusUuids] : NO_UUIDS;
        } catch (e) {
          this.#nodeFailed("store", node.peer.uuid, e, ctx);
          return NO_UUIDS;
        } finally {
          fan.cut(i);
          if (stored) hold.commit();
          else hold.release();
        }
      }),
    );
    // As git-annex (P2P/Proxy.hs): when every target already had the key
    // the answer names them (ALREADY-HAVE-PLUS); once content is sent, it
    // names only the repositories that stored it.
    const uuids = receivers.length === 0 ? holders : stored.flat();
    if (receivers.length > 0) {
      const took = stored.filter((u) => u.length > 0).length;
      const seconds = (performance.now() - started) / 1000;
      try {
        this.#opts.observer?.fanOut(this.uuid, seconds, receivers.length, took);
      } catch {
        // metrics are not worth a failed upload
      }
    }
    return { stored: this.#anyNode(uuids), plusUuids: this.#plus(uuids) };
  }

  /**
   * The nodes a put of `key` would go to now, in the put's order (the
   * gateway's own repository left out): room is checked, not held.
   */
  async uploadNodes(key: Key, associatedFile?: string, ctx?: PeerContext): Promise<Peer[]> {
    const targets = await this.#targets(key, associatedFile, true, ctx);
    for (const t of targets) t.hold.release();
    return targets
      .map((t) => t.node)
      .filter((n) => n !== this.#gatewayNode)
      .map((n) => n.peer);
  }

  async storePresent(key: Key, ctx?: PeerContext): Promise<StoreResult> {
    const targets = (await this.#targets(key, undefined, false, ctx)).map((t) => t.node);
    const results = await this.#forEach(targets, (n) =>
      n.peer.storePresent(key, this.#relayed(ctx)),
    );
    const uuids = results.flatMap((r, i) =>
      r instanceof Error || !r.stored
        ? []
        : [(targets[i] as ClusterNode).peer.uuid, ...r.plusUuids],
    );
    return { stored: this.#anyNode(uuids), plusUuids: this.#plus(uuids) };
  }

  async retrieve(key: Key, offset: number, ctx?: PeerContext): Promise<RetrieveResult | null> {
    for (const node of await this.#holders(key, ctx)) {
      const uuid = node.peer.uuid;
      this.#busy.set(uuid, (this.#busy.get(uuid) ?? 0) + 1);
      let r: RetrieveResult | null = null;
      try {
        r = await node.peer.retrieve(key, offset, this.#relayed(ctx));
      } catch (e) {
        this.#nodeFailed("retrieve", uuid, e, ctx);
      }
      if (r === null) {
        this.#idle(uuid);
        continue;
      }
      // Counted idle however the download ends, even if it already has.
      finished(r.data, () => this.#idle(uuid));
      return r;
    }
    return null;
  }

  async close(): Promise<void> {}

  #idle(uuid: string): void {
    const n = (this.#busy.get(uuid) ?? 1) - 1;
    if (n <= 0) this.#busy.delete(uuid);
    else this.#busy.set(uuid, n);
  }

  async #nodes(ctx?: PeerContext): Promise<readonly ClusterNode[]> {
    return this.#opts.nodes(new Set(this.#bypassFor(ctx)));
  }

  /** What a node request carries: this gateway joins the bypass list, so gateways never loop. */
  /** The bypass list of a request that came straight from a client (the usual one). */
  #ownBypass: readonly string[] | null = null;

  #bypassFor(ctx: PeerContext | undefined): readonly string[] {
    const before = ctx?.bypass;
    if (before === undefined || before.length === 0) {
      this.#ownBypass ??= Object.freeze([this.#opts.gatewayUuid]);
      return this.#ownBypass;
    }
    return [...new Set([...before, this.#opts.gatewayUuid])];
  }

  #relayed(ctx?: PeerContext): PeerContext {
    const bypass = this.#bypassFor(ctx);
    if (ctx === undefined) return { bypass };
    return new LazySignalContext(ctx, () => ctx.signal, { bypass });
  }

  /** Where to read the key from: the gateway's own copy when it has one, then the nodes. */
  async #holders(key: Key, ctx?: PeerContext): Promise<ClusterNode[]> {
    // The gateway's own copy is the cheapest there is.
    return [...(await this.#gatewayHolding(key)), ...(await this.#nodeHolders(key, ctx))];
  }

  /** The gateway's own repository, when there is one and it has the key. */
  async #gatewayHolding(key: Key): Promise<ClusterNode[]> {
    const gateway = this.#gatewayNode;
    return gateway && (await gateway.peer.checkPresent(key)).present ? [gateway] : [];
  }

  /** Nodes to ask for content, in the policy's read order (logged holders cheapest and least busy first). */
  async #nodeHolders(key: Key, ctx?: PeerContext): Promise<ClusterNode[]> {
    const nodes = await this.#nodes(ctx);
    const locs = await this.#opts.locations(key);
    return readOrder(candidates(nodes), locs, (u) => this.#busy.get(u) ?? 0).map((c) => c.node);
  }

  /**
   * Nodes an upload goes to, as git-annex chooses them (Annex/Cluster.hs
   * proxyPUT): those lacking the key that want it, else all lacking it,
   * else all; plus the gateway when it wants a copy. With `hold`, room is
   * held on each, and a node without room is left out.
   */
  async #targets(
    key: Key,
    associatedFile: string | undefined,
    hold: boolean,
    ctx?: PeerContext,
  ): Promise<Target[]> {
    const nodes = await this.#nodes(ctx);
    const decision = this.#opts.placement
      ? await this.#opts.placement.prepare(key, associatedFile)
      : EVERY_NODE;
    const locs = decision.locations ?? (await this.#opts.locations(key));
    // No await until the room is held: the choice and the holding are one
    // step (reserve holds room at once when only this process counts).
    let chosen: readonly ClusterNode[] = uploadTargets(candidates(nodes), locs, (u) =>
      decision.wants(u),
    ).map((c) => c.node);
    // The gateway takes a copy only when the placement says it wants one (own-copy rule).
    const gateway = this.#gatewayNode;
    if (gateway && this.#opts.placement && decision.wants(gateway.peer.uuid)) {
      chosen = [...chosen, gateway];
    }
    if (!hold) return chosen.map((node) => ({ node, hold: NO_HOLD }));
    const holds = await decision.reserve(chosen.map((n) => n.peer.uuid));
    const out: Target[] = [];
    chosen.forEach((node, i) => {
      const h = holds[i] ?? null;
      if (h !== null) out.push({ node, hold: h });
      else
        this.#opts.logger?.info(
          { cluster: this.uuid, node: node.peer.uuid, key: key.name },
          `no room on ${node.peer.uuid}`,
        );
    });
    return out;
  }

  /** Whether a node (not the gateway, which is not one) is among `uuids`: the cluster then has the key. */
  #anyNode(uuids: readonly string[]): boolean {
    return uuids.some((u) => isClusterCopy(u, this.#identity));
  }

  /** The UUIDs to report, without the cluster itself and without repeats. */
  #plus(uuids: readonly string[]): readonly string[] {
    return [...new Set(uuids)].filter((u) => u !== this.uuid);
  }

  /** Run `f` on every node, at most `jobs` at once; failures come back as Errors. */
  #forEach<T>(
    nodes: readonly ClusterNode[],
    f: (node: ClusterNode) => Promise<T>,
  ): Promise<(T | Error)[]> {
    return forEachBounded(nodes, this.#jobs, (node) => f(node));
  }
}

/** Nodes as the policy's placement functions take them. */
function candidates(
  nodes: readonly ClusterNode[],
): { uuid: string; cost: number; node: ClusterNode }[] {
  return nodes.map((node) => ({ uuid: node.peer.uuid, cost: node.cost, node }));
}
