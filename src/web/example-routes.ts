/**
 * The example upload page (`--example-page`): `/example`, its script, its
 * style sheet, the client library's browser bundle
 * (`/example/annexgate-client.js`, the one `npm run build` makes) and
 * what the page is told of the gateway (`/example/targets.json`). All of
 * it is behind the API's users with the permission to write, as the
 * uploads it makes are; nothing is loaded from elsewhere.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ActionClass, AUTH_REALM_HEADER } from "../protocol/index.js";
import type { AuthDecision, SideRoutes } from "../server/index.js";
import { EXAMPLE_CSS, EXAMPLE_HTML, exampleCsp } from "./example-page.js";
import { type ExampleSources, exampleTargets } from "./example-targets.js";

/** The page's path; everything else it loads is under it. */
export const EXAMPLE_PATH = "/example";

const here = dirname(fileURLToPath(import.meta.url));

/** The built files served, by path: the page's script, the client bundle, their source maps. */
const BUILT: Readonly<Record<string, { file: string; type: string }>> = {
  "/example/app.js": { file: join(here, "example", "app.js"), type: "text/javascript" },
  "/example/app.js.map": { file: join(here, "example", "app.js.map"), type: "application/json" },
  "/example/annexgate-client.js": {
    file: join(here, "..", "..", "browser", "annexgate-client.js"),
    type: "text/javascript",
  },
  "/example/annexgate-client.js.map": {
    file: join(here, "..", "..", "browser", "annexgate-client.js.map"),
    type: "application/json",
  },
};

/** Built files, each read once, on first use. */
const loaded = new Map<string, Promise<string>>();

function built(path: string, file: string): Promise<string> {
  let text = loaded.get(path);
  if (text === undefined) {
    text = readFile(file, "utf8");
    loaded.set(path, text);
    // A file missing now (not built yet) is looked for again next time.
    text.catch(() => loaded.delete(path));
  }
  return text;
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const TEXT = "text/plain; charset=utf-8";

export class ExamplePage implements SideRoutes {
  readonly #sources: ExampleSources;

  constructor(sources: ExampleSources) {
    this.#sources = sources;
  }

  /** Whether `path` is one of the page's. */
  static owns(path: string): boolean {
    return path === EXAMPLE_PATH || path.startsWith(`${EXAMPLE_PATH}/`);
  }

  serve(
    req: IncomingMessage,
    res: ServerResponse,
    may: (action?: ActionClass) => AuthDecision,
  ): { endpoint: string; done: Promise<void> } | null {
    const target = req.url ?? "";
    if (!target.startsWith(EXAMPLE_PATH)) return null;
    let url: URL;
    try {
      url = new URL(target, "http://x");
    } catch {
      return null;
    }
    if (!ExamplePage.owns(url.pathname)) return null;
    const done = (async () => {
      req.resume();
      const answer = await this.#answer(url.pathname, req.method, may);
      res.writeHead(answer.status, {
        "Content-Type": answer.type,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        ...answer.headers,
      });
      res.end(req.method === "HEAD" ? undefined : answer.body);
    })();
    return { endpoint: "example", done };
  }

  async #answer(
    path: string,
    method: string | undefined,
    may: (action?: ActionClass) => AuthDecision,
  ): Promise<Answer> {
    if (method !== "GET" && method !== "HEAD") {
      return { status: 405, type: TEXT, body: "only GET\n", headers: { Allow: "GET, HEAD" } };
    }
    // The page uploads: it is for those who may write.
    const decision = may("write");
    if (!decision.allow) {
      const headers: Record<string, string> =
        decision.status === 401 ? { "WWW-Authenticate": AUTH_REALM_HEADER } : {};
      return { status: decision.status, type: TEXT, body: "", headers };
    }
    const csp = exampleCsp(await this.#sources.uploadOrigins());
    const page = (type: string, body: string): Answer => ({
      status: 200,
      type: `${type}; charset=utf-8`,
      body,
      headers: { "Content-Security-Policy": csp, "Cache-Control": "no-cache" },
    });
    if (path === EXAMPLE_PATH) return page("text/html", EXAMPLE_HTML);
    if (path === `${EXAMPLE_PATH}/app.css`) return page("text/css", EXAMPLE_CSS);
    if (path === `${EXAMPLE_PATH}/targets.json`) {
      const targets = await exampleTargets(this.#sources);
      return {
        status: 200,
        type: "application/json; charset=utf-8",
        body: `${JSON.stringify(targets)}\n`,
        headers: { "Cache-Control": "no-store" },
      };
    }
    const file = BUILT[path];
    if (file !== undefined) return page(file.type, await built(path, file.file));
    return { status: 404, type: TEXT, body: "not found\n" };
  }
}
