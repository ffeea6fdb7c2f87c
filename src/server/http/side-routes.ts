/**
 * Paths a p2phttp server serves beside the API (health, metrics, a
 * dashboard): the server tries them first, and they answer by their own
 * rules, with the API's permission check at hand.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionClass } from "../../protocol/index.js";
import type { AuthDecision } from "./auth.js";

/** Paths served beside the API, each behind its own check. */
export interface SideRoutes {
  /**
   * Serves `req` when it is one of these paths: its name (a metric label)
   * and the work, which answers. `may` is the API's own decision for the
   * client wanting to do an action of a class (read, when not given), for
   * paths behind the same users.
   */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    may: (action?: ActionClass) => AuthDecision,
  ): { readonly endpoint: string; readonly done: Promise<void> } | null;
}
