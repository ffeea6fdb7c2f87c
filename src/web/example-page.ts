/**
 * The example upload page's frame and style sheet: the script
 * (example/app.ts) fills it. Its Content-Security-Policy lets it load
 * only what the gateway serves under /example, and send requests only to
 * the gateway and, for indirect uploads, to the object stores named.
 */

/** The page's policy; `uploadOrigins` are the object stores it may also send content to. */
export function exampleCsp(uploadOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["connect-src 'self'", ...uploadOrigins].join(" "),
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export const EXAMPLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>annexgate: upload a file</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="example/app.css">
<script type="module" src="example/app.js"></script>
</head>
<body>
<header><strong>annexgate</strong> upload a file into the archive</header>
<main id="app" data-state="loading">
<section class="choose">
<label for="target">Upload into</label>
<select id="target" disabled></select>
<label id="indirect-choice" hidden><input type="checkbox" id="indirect" checked>
send the content straight to the object store where the gateway offers it (indirect upload;
into a cluster, that puts it on the cluster's S3 node only)</label>
</section>
<section id="drop" class="drop">
<p>Drop a file here, or <label class="pick">choose one <input type="file" id="file" disabled></label></p>
</section>
<section id="upload" hidden>
<h2 id="file-name"></h2>
<p class="key">key <code id="key"></code></p>
<p><progress id="progress" max="1" value="0"></progress> <span id="progress-text"></span></p>
<p id="status" role="status"></p>
<h2>Where it is now</h2>
<ul id="locations"></ul>
</section>
</main>
</body>
</html>
`;

export const EXAMPLE_CSS = `
:root { color-scheme: light dark; --ok: #2e7d32; --bad: #c62828; --muted: #777; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 760px; padding: 0 16px 32px; }
header { padding: 12px 0; border-bottom: 1px solid #8884; }
h2 { font-size: 16px; margin: 18px 0 6px; word-break: break-all; }
section { margin: 18px 0; }
.choose label { display: block; margin: 6px 0; }
select { font: inherit; min-width: 50%; }
.drop { border: 2px dashed #8888; border-radius: 10px; padding: 28px; text-align: center; }
.drop.over { border-color: var(--ok); background: #2e7d3214; }
.pick { color: LinkText; text-decoration: underline; cursor: pointer; }
.pick input { position: absolute; width: 1px; height: 1px; opacity: 0; }
.key code { font: 12px ui-monospace, monospace; word-break: break-all; }
progress { width: 70%; height: 14px; vertical-align: middle; }
#progress-text { color: var(--muted); }
#status[data-kind="error"] { color: var(--bad); font-weight: 600; }
#locations li { margin: 2px 0; }
#locations li[data-present="true"]::before { content: "✔ "; color: var(--ok); }
#locations li[data-present="false"]::before { content: "✘ "; color: var(--bad); }
#locations .uuid { color: var(--muted); font: 11px ui-monospace, monospace; margin-left: 6px; }
`;
