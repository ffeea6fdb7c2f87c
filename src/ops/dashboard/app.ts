/// <reference lib="dom" />
/**
 * The dashboard page's script, run in the browser: it listens to the
 * gateway's snapshots (Server-Sent Events from dashboard/events) and
 * draws each gateway's clusters and nodes (used against maxsize, share of
 * the cluster, whether it answers, its latest failures), the transfers in
 * flight with their progress, and the request rate (Chart.js, served by
 * the gateway beside this script). Nothing is fetched from elsewhere.
 *
 * Elements carry data-* attributes with exact values (bytes, states), so
 * a test can read what a person sees.
 */
import type { Chart as ChartClass } from "chart.js";
import type { DashboardGateway, DashboardNode, DashboardSnapshot } from "./snapshot.js";

declare const Chart: typeof ChartClass;

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function bytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${UNITS[i]}`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** A bar filled to `fraction` (0..1), drawn through the CSSOM (the page's policy forbids inline styles). */
function bar(fraction: number, kind: string): HTMLElement {
  const fill = el("span", { class: `fill ${kind}` });
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return el("span", { class: "bar" }, fill);
}

function state(n: DashboardNode): string {
  if (n.reachable === null) return "unknown";
  return n.reachable ? "ok" : "failing";
}

function nodeRow(n: DashboardNode, clusterTotal: number): HTMLElement {
  const used = n.maxSize !== null ? `${bytes(n.size)} of ${bytes(n.maxSize)}` : bytes(n.size);
  const fraction = n.maxSize ? n.size / n.maxSize : 0;
  const share = clusterTotal > 0 ? `${((100 * n.size) / clusterTotal).toFixed(0)} %` : "–";
  const last = n.failures.at(-1);
  const failures =
    n.failures.length === 0
      ? "none"
      : `${n.failures.length}: last ${last?.operation} ${last?.outcome} at ${new Date(last?.at ?? 0).toLocaleTimeString()}`;
  const status = el("td", { class: `state ${state(n)}` }, state(n));
  if (n.error !== undefined) status.title = n.error;
  return el(
    "tr",
    {
      "data-node": n.uuid,
      "data-bytes": String(n.size),
      "data-state": state(n),
      "data-failures": String(n.failures.length),
    },
    el("td", { class: "name" }, n.name, el("div", { class: "uuid" }, n.uuid)),
    status,
    el("td", {}, n.maxSize !== null ? bar(fraction, fraction > 0.9 ? "full" : "used") : "", used),
    el("td", { class: "num" }, share),
    el("td", { class: "num" }, n.storing > 0 ? bytes(n.storing) : ""),
    el("td", { class: "failures" }, failures),
  );
}

function nodeTable(title: string, nodes: readonly DashboardNode[]): HTMLElement {
  const total = nodes.reduce((t, n) => t + n.size, 0);
  const head = ["node", "state", "used", "share", "storing", "recent failures"];
  return el(
    "section",
    { class: "cluster" },
    el("h2", {}, title, el("span", { class: "total" }, ` ${bytes(total)} in all`)),
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...nodes.map((n) => nodeRow(n, total))),
    ),
  );
}

function gatewaySection(g: DashboardGateway): HTMLElement {
  const byUuid = new Map(g.nodes.map((n) => [n.uuid, n]));
  const sections = g.clusters.map((c) =>
    nodeTable(
      `cluster ${c.name}`,
      c.nodes.flatMap((u) => byUuid.get(u) ?? []),
    ),
  );
  const alone = g.nodes.filter((n) => n.clusters.length === 0);
  if (alone.length > 0) sections.push(nodeTable("proxied remotes", alone));
  return el(
    "article",
    { "data-gateway": g.uuid },
    el("h1", {}, "gateway ", el("span", { class: "uuid" }, g.uuid)),
    ...(sections.length > 0 ? sections : [el("p", {}, "no remotes behind this gateway")]),
  );
}

function transfersSection(s: DashboardSnapshot): HTMLElement {
  const rows = s.transfers.map((t) =>
    el(
      "tr",
      { "data-transfer": t.id, "data-bytes": String(t.bytes), "data-total": String(t.total) },
      el("td", {}, t.direction),
      el("td", { class: "key" }, t.key),
      el("td", {}, t.target),
      el(
        "td",
        {},
        bar(t.total > 0 ? t.bytes / t.total : 1, "used"),
        `${bytes(t.bytes)} of ${bytes(t.total)}`,
      ),
      el("td", { class: "num" }, `${bytes(t.bytes / Math.max(t.seconds, 0.001))}/s`),
    ),
  );
  return el(
    "section",
    { id: "transfers" },
    el("h2", {}, `transfers in flight: ${s.transfers.length}`),
    rows.length === 0
      ? el("p", {}, "none")
      : el(
          "table",
          {},
          el(
            "thead",
            {},
            el("tr", {}, ...["", "key", "to", "progress", "rate"].map((h) => el("th", {}, h))),
          ),
          el("tbody", {}, ...rows),
        ),
  );
}

let chart: ChartClass | null = null;

function drawRates(s: DashboardSnapshot): void {
  const labels = s.rates.map((r) => new Date(r.second * 1000).toLocaleTimeString());
  const data = s.rates.map((r) => r.requests);
  if (chart === null) {
    const canvas = document.getElementById("rates") as HTMLCanvasElement;
    chart = new Chart(canvas, {
      type: "line",
      data: {
        labels,
        datasets: [{ label: "requests per second", data, pointRadius: 0, borderWidth: 2 }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } },
      },
    });
    return;
  }
  chart.data.labels = labels;
  const dataset = chart.data.datasets[0];
  if (dataset) dataset.data = data;
  chart.update();
}

let updates = 0;

function render(s: DashboardSnapshot): void {
  const main = document.getElementById("gateways") as HTMLElement;
  main.replaceChildren(...s.gateways.map(gatewaySection));
  (document.getElementById("transfers") as HTMLElement).replaceWith(transfersSection(s));
  drawRates(s);
  const now = s.rates.at(-1)?.requests ?? 0;
  (document.getElementById("updated") as HTMLElement).textContent =
    `updated ${new Date(s.time).toLocaleTimeString()} · ${now} requests in the last second`;
  document.body.dataset.updates = String(++updates);
}

const interval = new URLSearchParams(location.search).get("interval");
const source = new EventSource(
  `dashboard/events${interval ? `?interval=${encodeURIComponent(interval)}` : ""}`,
);
source.onmessage = (e: MessageEvent<string>) => render(JSON.parse(e.data) as DashboardSnapshot);
source.onerror = () => {
  (document.getElementById("updated") as HTMLElement).textContent = "not connected; retrying";
};
