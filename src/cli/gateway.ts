/**
 * Making a served repository a gateway: the Gateway of the proxy layer,
 * with its routes decided by the remotes layer from the repository's git
 * config and git-annex branch.
 */
import type { TmpLimitText } from "../objects/index.js";
import type { LocalRepository } from "../peers/index.js";
import { Gateway, type IndirectSettings, type NodeObserver } from "../proxy/index.js";
import { clusterNodesFor, loadGatewayConfig, routeFor } from "../remotes/index.js";
import type { Logger } from "../util/index.js";

export interface GatewaySettings {
  /** Requests to cluster nodes at once for one operation. */
  readonly clusterJobs?: number;
  /** Requests to one proxied node at once. */
  readonly maxConnections?: number;
  /** Commit delay for node repositories opened in-process (ms). */
  readonly commitDelayMs?: number;
  /** Reclaim abandoned partial uploads of node repositories opened in-process. */
  readonly tmpReclaim?: TmpLimitText;
  /** How long a node may make no progress on a request it owes (ms). */
  readonly stallTimeoutMs?: number;
  readonly logger?: Logger;
  /** Told of node calls and fan-outs (the metrics). */
  readonly observer?: NodeObserver;
  /** Offer indirect uploads (--indirect-uploads), with these settings. */
  readonly indirect?: IndirectSettings;
}

export function makeGateway(repo: LocalRepository, s: GatewaySettings = {}): Gateway {
  return new Gateway({
    repo,
    routing: {
      load: () => loadGatewayConfig(repo.git, repo.branch),
      route: routeFor,
      clusterNodes: clusterNodesFor,
    },
    ...(s.clusterJobs !== undefined ? { clusterJobs: s.clusterJobs } : {}),
    connect: {
      ...(s.commitDelayMs !== undefined ? { commitDelayMs: s.commitDelayMs } : {}),
      ...(s.maxConnections !== undefined ? { maxConnections: s.maxConnections } : {}),
      ...(s.tmpReclaim ? { tmpReclaim: s.tmpReclaim } : {}),
      ...(s.stallTimeoutMs !== undefined ? { stallTimeoutMs: s.stallTimeoutMs } : {}),
    },
    ...(s.logger ? { logger: s.logger } : {}),
    ...(s.observer ? { observer: s.observer } : {}),
    ...(s.indirect ? { indirect: s.indirect } : {}),
  });
}
