/**
 * What the operator-facing endpoints read: the server's holdings, and each
 * served repository with its gateway. Plain getters, so the metrics and
 * the health checks stay apart from how the server is wired.
 */

import type { LocalRepository } from "../peers/index.js";
import type { GatewayLike, ServerStats, TransferProgress } from "../server/index.js";

export interface OpsSources {
  /** What the p2phttp server holds now. */
  stats(): ServerStats;
  /** The transfers being served now, with their progress. */
  transfers(): TransferProgress[];
  /** Each served repository, with its gateway when it is one. */
  served(): readonly { readonly repo: LocalRepository; readonly gateway: GatewayLike | null }[];
}
