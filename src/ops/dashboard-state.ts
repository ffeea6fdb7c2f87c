/**
 * What the dashboard shows, as one JSON snapshot: each gateway's clusters
 * and nodes (used bytes against maxsize, stores in flight, whether the
 * node answers, its latest failures), the transfers in flight with their
 * progress, and the request rate. Built at most once per interval however
 * many pages watch, so watchers cost the server one snapshot, not one each.
 */
import type { NodeReachability } from "../proxy/index.js";
import type { Activity } from "./activity.js";
import type { DashboardNode, DashboardSnapshot } from "./dashboard/snapshot.js";
import type { OpsSources } from "./sources.js";

export class DashboardState {
  readonly #sources: OpsSources;
  readonly #activity: Activity;
  readonly #details: boolean;
  #last: { at: number; snapshot: Promise<DashboardSnapshot> } | null = null;

  constructor(sources: OpsSources, activity: Activity, details: boolean) {
    this.#sources = sources;
    this.#activity = activity;
    this.#details = details;
  }

  /** A snapshot no older than `maxAgeMs`. */
  snapshot(maxAgeMs: number): Promise<DashboardSnapshot> {
    const now = Date.now();
    if (this.#last !== null && now - this.#last.at < maxAgeMs) return this.#last.snapshot;
    const snapshot = this.#take(now);
    this.#last = { at: now, snapshot };
    // A failed snapshot is not kept.
    snapshot.catch(() => {
      if (this.#last?.snapshot === snapshot) this.#last = null;
    });
    return snapshot;
  }

  async #take(time: number): Promise<DashboardSnapshot> {
    const gateways = await Promise.all(
      this.#sources.served().flatMap(({ gateway }) => {
        if (gateway === null) return [];
        return [Promise.all([gateway.overview(), gateway.reachability()])];
      }),
    );
    return {
      time,
      gateways: gateways.map(([o, reach]) => {
        const byUuid = new Map<string, NodeReachability>(reach.map((r) => [r.uuid, r]));
        return {
          uuid: o.uuid,
          clusters: o.clusters,
          nodes: o.nodes.map((n): DashboardNode => {
            const r = byUuid.get(n.uuid);
            return {
              name: n.name,
              uuid: n.uuid,
              size: Number(n.size),
              maxSize: n.maxSize === null ? null : Number(n.maxSize),
              storing: Number(n.storing),
              clusters: n.clusters,
              reachable: r?.reachable ?? null,
              ...(this.#details && r?.error !== undefined ? { error: r.error } : {}),
              failures: this.#activity.failures(n.uuid),
            };
          }),
        };
      }),
      transfers: this.#sources.transfers(),
      rates: this.#activity.rates(120),
    };
  }
}
