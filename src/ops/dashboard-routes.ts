/**
 * The dashboard's paths: the page (`/dashboard`), its script, style sheet
 * and Chart.js (all from this package, none from the network), and the
 * live feed (`/dashboard/events`): one snapshot at once, then one every
 * interval (`?interval=MS`, 200 ms at least, 1 s by default) until the
 * page goes. A page that reads slower than the feed is skipped a
 * snapshot rather than queued one: a stalled page holds one snapshot at
 * most.
 */
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARD_CSP, DASHBOARD_CSS, DASHBOARD_HTML } from "./dashboard-page.js";
import type { DashboardState } from "./dashboard-state.js";

const MIN_INTERVAL_MS = 200;
const MAX_INTERVAL_MS = 60_000;
/** Feeds open at once, all pages together; past it, 503. */
const MAX_FEEDS = 64;
/** Bytes a page may leave unread before snapshots are skipped for it. */
const MAX_UNREAD = 1 << 20;

/** The script and Chart.js, read once, on first use. */
let scripts: Promise<{ app: string; chart: string }> | null = null;

function loadScripts(): Promise<{ app: string; chart: string }> {
  scripts ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const chartMain = createRequire(import.meta.url).resolve("chart.js");
    const [app, chart] = await Promise.all([
      readFile(join(here, "dashboard", "app.js"), "utf8"),
      readFile(join(dirname(chartMain), "chart.umd.min.js"), "utf8"),
    ]);
    return { app, chart };
  })();
  return scripts;
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, {
    "Content-Type": `${type}; charset=utf-8`,
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
  });
  res.end(body);
}

export class DashboardRoutes {
  readonly #state: DashboardState;
  #feeds = 0;

  constructor(state: DashboardState) {
    this.#state = state;
  }

  /** Whether `path` is one of the dashboard's. */
  static owns(path: string): boolean {
    return path === "/dashboard" || path.startsWith("/dashboard/");
  }

  /** Serves a dashboard path to a client already allowed to see it. */
  async serve(url: URL, method: string | undefined, res: ServerResponse): Promise<void> {
    switch (url.pathname) {
      case "/dashboard":
        return send(res, "text/html", DASHBOARD_HTML);
      case "/dashboard/app.css":
        return send(res, "text/css", DASHBOARD_CSS);
      case "/dashboard/app.js":
        return send(res, "text/javascript", (await loadScripts()).app);
      case "/dashboard/chart.js":
        return send(res, "text/javascript", (await loadScripts()).chart);
      case "/dashboard/events":
        return this.#events(url, method, res);
      default:
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
    }
  }

  async #events(url: URL, method: string | undefined, res: ServerResponse): Promise<void> {
    const asked = Number(url.searchParams.get("interval") ?? "1000");
    const intervalMs = Number.isFinite(asked)
      ? Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, asked))
      : 1000;
    if (this.#feeds >= MAX_FEEDS) {
      res.writeHead(503, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
      res.end("too many dashboards open, try again later\n");
      return;
    }
    if (method === "HEAD") {
      res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8" }).end();
      return;
    }
    this.#feeds++;
    try {
      await this.#feed(res, intervalMs);
    } finally {
      this.#feeds--;
    }
  }

  async #feed(res: ServerResponse, intervalMs: number): Promise<void> {
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    // The connection's idle timeout stays: a page that stops reading lets
    // the socket's buffers fill, nothing more is written, and it is closed.
    const gone = new Promise<void>((resolve) => res.once("close", resolve));
    let open = true;
    void gone.then(() => {
      open = false;
    });
    while (open) {
      if (res.writableLength < MAX_UNREAD) {
        const s = await this.#state.snapshot(intervalMs / 2);
        if (!open) break;
        res.write(`data: ${JSON.stringify(s)}\n\n`);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, intervalMs)))]);
      clearTimeout(timer);
    }
  }
}
