/**
 * A sim report as one self-contained HTML page: the summary as a table,
 * and three charts drawn by Chart.js (embedded in the page, given by the
 * caller as source text): each repository's fill over the run against
 * its maxsize, transfers and drops over the run, and the final balance.
 * The page loads nothing (its Content-Security-Policy forbids it), so it
 * can be mailed, archived or opened offline.
 */
import { roughSize } from "../sizes/index.js";
import type { SimReport } from "./report.js";

const size = (bytes: number): string => roughSize(BigInt(Math.round(bytes)), { short: true });

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/** JSON that cannot end the script element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** Script text that cannot end its script element early. */
function scriptText(source: string): string {
  return source.replace(/<\/(script)/gi, "<\\/$1");
}

/** Draws the charts from the data element; sets data-charts on the body when done. */
const DRAW = `
(function () {
  const r = JSON.parse(document.getElementById("report-data").textContent);
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  function size(b) {
    let i = 0;
    while (Math.abs(b) >= 1000 && i < units.length - 1) { b /= 1000; i++; }
    return (Math.round(b * 100) / 100) + " " + units[i];
  }
  function color(i, alpha) {
    return "hsla(" + ((i * 137) % 360) + ", 65%, 45%, " + alpha + ")";
  }
  const common = { animation: false, responsive: false };
  const bytesAxis = { beginAtZero: true, ticks: { callback: (v) => size(v) } };
  const last = r.samples.length ? r.samples[r.samples.length - 1].action : 0;
  const fill = [];
  r.repos.forEach((repo, i) => {
    fill.push({
      label: repo.name,
      data: r.samples.map((s) => ({ x: s.action, y: s.bytes[i] || 0 })),
      borderColor: color(i, 1), backgroundColor: color(i, 1), pointRadius: 0, borderWidth: 2,
    });
    if (repo.maxSize !== undefined) {
      fill.push({
        label: repo.name + " maxsize",
        data: [{ x: 0, y: repo.maxSize }, { x: last, y: repo.maxSize }],
        borderColor: color(i, 0.6), borderDash: [6, 4], pointRadius: 0, borderWidth: 1,
      });
    }
  });
  new Chart(document.getElementById("fill"), {
    type: "line",
    data: { datasets: fill },
    options: { ...common, parsing: false,
      scales: { x: { type: "linear", title: { display: true, text: "actions" } }, y: bytesAxis } },
  });
  let transfers = 0;
  let drops = 0;
  const moved = r.samples.map((s) => {
    transfers += s.transfers;
    drops += s.drops;
    return { x: s.action, t: transfers, d: drops };
  });
  new Chart(document.getElementById("moves"), {
    type: "line",
    data: {
      datasets: [
        { label: "transfers", data: moved.map((m) => ({ x: m.x, y: m.t })), borderColor: color(2, 1), backgroundColor: color(2, 1), pointRadius: 0 },
        { label: "drops", data: moved.map((m) => ({ x: m.x, y: m.d })), borderColor: color(5, 1), backgroundColor: color(5, 1), pointRadius: 0 },
      ],
    },
    options: { ...common, parsing: false,
      scales: { x: { type: "linear", title: { display: true, text: "actions" } }, y: { beginAtZero: true, title: { display: true, text: "so far" } } } },
  });
  new Chart(document.getElementById("balance"), {
    type: "bar",
    data: {
      labels: r.repos.map((p) => p.name),
      datasets: [
        { label: "size", data: r.repos.map((p) => p.bytes), backgroundColor: color(1, 0.8) },
        { label: "maxsize", data: r.repos.map((p) => p.maxSize === undefined ? null : p.maxSize), backgroundColor: color(1, 0.25) },
      ],
    },
    options: { ...common, indexAxis: "y", scales: { x: bytesAxis } },
  });
  document.body.dataset.charts = "3";
})();
`;

/** The page; `chartJs` is the source of Chart.js's UMD build. */
export function formatReportHtml(
  r: SimReport,
  chartJs: string,
  title = "annexgate sim report",
): string {
  const rows = r.repos
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${p.keys}</td><td>${size(p.bytes)}</td>` +
        `<td>${p.maxSize === undefined ? "-" : size(p.maxSize)}</td><td>${size(p.peakBytes)}</td></tr>`,
    )
    .join("\n");
  const verdict = r.stable === undefined ? "no step ran" : r.stable ? "stable" : "not stable";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
td:first-child, th:first-child { text-align: left; }
canvas { display: block; margin: 1em 0 2em; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p id="verdict"><strong>${escapeHtml(verdict)}</strong>: ${escapeHtml(r.why)}</p>
<p>${r.actions} actions: ${r.transfers.keys} transfers (${size(r.transfers.bytes)}),
${r.drops.keys} drops (${size(r.drops.bytes)}).${
    r.belowNumcopies > 0
      ? ` ${r.belowNumcopies} keys have fewer than numcopies (${r.numcopies}) copies.`
      : ""
  }${r.overMaxSize.length > 0 ? ` Over their maxsize: ${escapeHtml(r.overMaxSize.join(", "))}.` : ""}</p>
${r.expressionProblems.map((p) => `<p class="problem">expression: ${escapeHtml(p)}</p>`).join("\n")}
<table>
<tr><th>repository</th><th>keys</th><th>size</th><th>maxsize</th><th>peak</th></tr>
${rows}
</table>
<h2>Fill over the run</h2>
<canvas id="fill" width="1000" height="400"></canvas>
<h2>Transfers and drops so far</h2>
<canvas id="moves" width="1000" height="300"></canvas>
<h2>Final balance</h2>
<canvas id="balance" width="1000" height="${Math.max(150, 40 * r.repos.length)}"></canvas>
<script id="report-data" type="application/json">${scriptJson(r)}</script>
<script>${scriptText(chartJs)}</script>
<script>${scriptText(DRAW)}</script>
</body>
</html>
`;
}
