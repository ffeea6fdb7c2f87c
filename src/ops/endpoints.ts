/**
 * The paths an operator's tools poll, beside the p2phttp API:
 *
 * - `/healthz`: liveness; 200 while the process answers at all.
 * - `/readyz`: readiness, as JSON: the repositories served and whether
 *   each repository behind them answers (probed, answers kept 10 s). 200
 *   while serving ("degraded" when a node does not answer: the others
 *   still serve); with `?all`, 503 unless every node answers.
 * - `/metrics`: Prometheus exposition text.
 *
 * On the API's own port they are behind the API's users (a client that
 * may read), and `/readyz` leaves out why a node failed (its error names
 * hosts); on their own port (`--metrics-port`, bound where only the
 * operator reaches) they are open and complete.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { AUTH_REALM_HEADER } from "../protocol/index.js";
import type { AuthDecision, SideRoutes } from "../server/index.js";
import { DashboardRoutes } from "./dashboard-routes.js";
import type { GatewayMetrics } from "./metrics.js";
import type { OpsSources } from "./sources.js";

export interface OpsEndpointsOptions {
  /** The metrics; without them only /healthz is answered (the API's port without --metrics). */
  readonly metrics: GatewayMetrics | null;
  /** The dashboard's paths, when it is served (--dashboard). */
  readonly dashboard: DashboardRoutes | null;
  /** Say why a node failed (only where the operator alone can ask). */
  readonly details: boolean;
  /** Ask the API's permission before /metrics and /readyz. */
  readonly guarded: boolean;
}

type Answer = { readonly status: number; readonly type: string; readonly body: string };

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

export class OpsEndpoints implements SideRoutes {
  readonly #sources: OpsSources;
  readonly #opts: OpsEndpointsOptions;

  constructor(sources: OpsSources, opts: OpsEndpointsOptions) {
    this.#sources = sources;
    this.#opts = opts;
  }

  serve(
    req: IncomingMessage,
    res: ServerResponse,
    mayRead: () => AuthDecision,
  ): { endpoint: string; done: Promise<void> } | null {
    // Only an origin-form target ("/path?query") can be one of these; a
    // target the URL parser refuses ("http://[") is left to the API's own
    // parser, which answers it with an error.
    const target = req.url ?? "";
    if (!target.startsWith("/") || target.startsWith("//")) return null;
    let url: URL;
    try {
      url = new URL(target, "http://x");
    } catch {
      return null;
    }
    const { metrics, dashboard } = this.#opts;
    const name =
      dashboard && DashboardRoutes.owns(url.pathname) ? "dashboard" : url.pathname.slice(1);
    if (
      name !== "healthz" &&
      name !== "dashboard" &&
      !(metrics && (name === "metrics" || name === "readyz"))
    )
      return null;
    const done = (async () => {
      req.resume();
      let answer: Answer;
      if (req.method !== "GET" && req.method !== "HEAD") {
        answer = { status: 405, type: TEXT, body: "only GET\n" };
      } else if (name === "healthz") {
        answer = { status: 200, type: TEXT, body: "ok\n" };
      } else {
        const decision = this.#opts.guarded ? mayRead() : { allow: true as const };
        if (!decision.allow) {
          if (decision.status === 401) res.setHeader("WWW-Authenticate", AUTH_REALM_HEADER);
          answer = { status: decision.status, type: TEXT, body: "" };
        } else if (name === "dashboard" && dashboard) {
          return dashboard.serve(url, req.method, res);
        } else if (name === "metrics" && metrics) {
          const m = await metrics.scrape();
          answer = { status: 200, type: m.contentType, body: m.body };
        } else {
          answer = await this.#readiness(url.searchParams.has("all"));
        }
      }
      res.writeHead(answer.status, { "Content-Type": answer.type });
      res.end(req.method === "HEAD" ? undefined : answer.body);
    })();
    return { endpoint: name, done };
  }

  async #readiness(strict: boolean): Promise<Answer> {
    const served = this.#sources.served();
    const nodes = (
      await Promise.all(served.map(({ gateway }) => gateway?.reachability() ?? []))
    ).flat();
    const down = nodes.filter((n) => !n.reachable).length;
    const body = {
      status: down === 0 ? "ready" : "degraded",
      // Behind the API's users (which may be anyone, read-only), the
      // repositories served are not listed: stock p2phttp never lists them.
      ...(this.#opts.details ? { repositories: served.map(({ repo }) => repo.uuid) } : {}),
      nodes: nodes.map((n) => ({
        name: n.name,
        uuid: n.uuid,
        reachable: n.reachable,
        checkedAt: new Date(n.checkedAt).toISOString(),
        ms: n.ms,
        ...(this.#opts.details && n.error !== undefined ? { error: n.error } : {}),
      })),
    };
    const status = strict && down > 0 ? 503 : 200;
    return { status, type: JSON_TYPE, body: `${JSON.stringify(body, null, 2)}\n` };
  }
}
