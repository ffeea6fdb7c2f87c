/**
 * `annexgate p2phttp`'s operator endpoints: `/healthz` always on the API's
 * port; with `--metrics`, `/metrics` and `/readyz` there too, and with
 * `--dashboard` the dashboard, behind the API's users; with
 * `--metrics-port`, all of them on a port of their own (default address
 * 127.0.0.1), open to whoever can reach it.
 */
import { createServer, type Server } from "node:http";
import {
  Activity,
  AllObservers,
  DashboardRoutes,
  DashboardState,
  GatewayMetrics,
  OpsEndpoints,
  type OpsSources,
} from "../ops/index.js";
import type { NodeObserver } from "../proxy/index.js";
import type { HttpObserver } from "../server/index.js";
import { UsageError } from "./usage.js";

export interface OpsFlags {
  readonly metrics?: boolean | undefined;
  readonly dashboard?: boolean | undefined;
  readonly "metrics-port"?: string | undefined;
  readonly "metrics-bind"?: string | undefined;
}

export interface OpsWiring {
  /** What observes the server and the gateways (the metrics, the dashboard's activity), if anything. */
  readonly observer: (HttpObserver & NodeObserver) | null;
  /** The operator paths on the API's port. */
  readonly onApiPort: OpsEndpoints;
  /** Starts the own-port listener when asked for; resolves to its address, or null. */
  listen(): Promise<string | null>;
  close(): Promise<void>;
}

function portOf(text: string): number {
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port > 65535) throw new UsageError(`bad --metrics-port ${text}`);
  return port;
}

export function opsWiring(o: OpsFlags, sources: OpsSources): OpsWiring {
  const ownPort = o["metrics-port"] !== undefined ? portOf(o["metrics-port"]) : null;
  if (ownPort === null && o["metrics-bind"] !== undefined) {
    throw new UsageError("--metrics-bind is for --metrics-port");
  }
  const metrics = o.metrics || ownPort !== null ? new GatewayMetrics(sources) : null;
  const activity = o.dashboard ? new Activity() : null;
  const dashboard = (details: boolean) =>
    activity ? new DashboardRoutes(new DashboardState(sources, activity, details)) : null;
  const observers = [metrics, activity].filter((x) => x !== null);
  const onApiPort = new OpsEndpoints(sources, {
    metrics: o.metrics ? metrics : null,
    dashboard: dashboard(false),
    details: false,
    guarded: true,
  });
  let server: Server | null = null;
  return {
    observer: observers.length > 0 ? new AllObservers(observers) : null,
    onApiPort,
    listen: async () => {
      if (ownPort === null) return null;
      const own = new OpsEndpoints(sources, {
        metrics,
        dashboard: dashboard(true),
        details: true,
        guarded: false,
      });
      server = createServer((req, res) => {
        const served = own.serve(req, res, () => ({ allow: true, mode: "readonly" }));
        if (served === null) {
          req.resume();
          res.writeHead(404).end("not found\n");
          return;
        }
        served.done.catch(() => res.destroy());
      });
      // As on the API's port: a connection that moves nothing (a page that
      // stopped reading its feed, a client that sent half a request) goes.
      server.setTimeout(120_000, (socket) => socket.destroy());
      server.headersTimeout = 60_000;
      const s = server;
      return new Promise<string>((resolve, reject) => {
        s.once("error", reject);
        s.listen(ownPort, o["metrics-bind"] ?? "127.0.0.1", () => {
          const a = s.address();
          resolve(typeof a === "object" && a ? `${a.address}:${a.port}` : String(a));
        });
      });
    },
    close: async () => {
      const s = server;
      if (s === null) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
