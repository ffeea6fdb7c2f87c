/**
 * The dashboard's page and style sheet. The page is a frame the script
 * (dashboard/app.ts) fills; its Content-Security-Policy lets it load only
 * what the gateway serves under /dashboard and talk only to the gateway,
 * so it works offline and nothing is fetched from elsewhere.
 */

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>annexgate</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard/app.css">
<script src="dashboard/chart.js"></script>
<script type="module" src="dashboard/app.js"></script>
</head>
<body>
<header><strong>annexgate</strong> <span id="updated">connecting…</span></header>
<main id="gateways"></main>
<section id="transfers"></section>
<section class="rates"><h2>requests per second</h2><div class="chart"><canvas id="rates"></canvas></div></section>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --ok: #2e7d32; --bad: #c62828; --bar: #1565c0; --muted: #777; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 16px 32px; }
header { position: sticky; top: 0; padding: 10px 0; border-bottom: 1px solid #8884; background: Canvas; }
#updated { color: var(--muted); margin-left: 1em; }
h1 { font-size: 18px; margin: 18px 0 6px; }
h2 { font-size: 15px; margin: 14px 0 4px; }
.uuid { color: var(--muted); font: 11px ui-monospace, monospace; }
.total { color: var(--muted); font-weight: normal; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #8883; vertical-align: middle; }
th { font-weight: 600; color: var(--muted); }
td.num { text-align: right; white-space: nowrap; }
td.key { font: 12px ui-monospace, monospace; word-break: break-all; }
td.failures { color: var(--muted); font-size: 12px; }
.state.ok { color: var(--ok); }
.state.failing { color: var(--bad); font-weight: 600; }
.state.unknown { color: var(--muted); }
.bar { display: inline-block; width: 140px; height: 10px; margin-right: 8px; border-radius: 5px; background: #8883; overflow: hidden; vertical-align: middle; }
.fill { display: block; height: 100%; background: var(--bar); }
.fill.full { background: var(--bad); }
.rates .chart { position: relative; height: 180px; }
`;
