/**
 * The example page's paths over a real HTTP server, with a gateway that
 * only describes itself: who may load them (those who may write), what
 * the policy lets the page reach, what it is told of the targets, and
 * what is not one of its paths.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ActionClass } from "../protocol/index.js";
import type { AuthDecision, GatewayLike } from "../server/index.js";
import { EXAMPLE_PATH, ExamplePage, type ExampleSources, type ExampleTargets } from "./index.js";

const GW = "11111111-1111-4111-8111-111111111111";
const CLUSTER = "acbde19b-2402-894b-bb90-4e4f3dfe9c32";
const A = "22222222-2222-4222-8222-222222222222";
const B = "33333333-3333-4333-8333-333333333333";

/** A gateway of one cluster of two nodes (b cheaper), offering indirect uploads. */
const gateway = {
  indirect: {},
  overview: async () => ({
    uuid: GW,
    nodes: [
      { name: "b", uuid: B, size: 0n, maxSize: null, storing: 0n, clusters: [CLUSTER] },
      { name: "a", uuid: A, size: 7n, maxSize: null, storing: 0n, clusters: [CLUSTER] },
    ],
    clusters: [{ name: "c", uuid: CLUSTER, nodes: [B, A] }],
  }),
} as unknown as GatewayLike;

const sources: ExampleSources = {
  served: () => [{ repo: { uuid: GW }, gateway }],
  uploadOrigins: async () => ["http://127.0.0.1:9000"],
};

/** The decision for a request: "w" may write, "r" may only read, anyone else must log in. */
function decide(who: string | undefined, action: ActionClass): AuthDecision {
  if (who === "w") return { allow: true, mode: "readwrite" };
  if (who === "r")
    return action === "read" ? { allow: true, mode: "readonly" } : { allow: false, status: 403 };
  return { allow: false, status: 401 };
}

describe("the example page's paths", () => {
  let server: Server;
  let base = "";
  const asked: (ActionClass | undefined)[] = [];

  before(async () => {
    const page = new ExamplePage(sources);
    server = createServer((req, res) => {
      const who = req.headers["x-who"] as string | undefined;
      const served = page.serve(req, res, (action) => {
        asked.push(action);
        return decide(who, action ?? "read");
      });
      if (served === null) res.writeHead(418).end();
      else assert.equal(served.endpoint, "example");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const get = (path: string, who?: string, method = "GET") =>
    fetch(`${base}${path}`, { method, headers: who ? { "x-who": who } : {} });

  it("is for those who may write", async () => {
    const anonymous = await get(EXAMPLE_PATH);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Basic realm="git-annex"/);
    assert.equal((await get(`${EXAMPLE_PATH}/targets.json`, "r")).status, 403);
    assert.equal((await get(`${EXAMPLE_PATH}/app.css`, "r")).status, 403);
    assert.ok(
      asked.every((a) => a === "write"),
      asked.join(" "),
    );
    const ok = await get(EXAMPLE_PATH, "w");
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<script type="module" src="example\/app.js"><\/script>/);
  });

  it("has a strict policy that lets the page reach only the gateway and the object stores", async () => {
    const csp = (await get(EXAMPLE_PATH, "w")).headers.get("content-security-policy") ?? "";
    const directives = new Map(
      csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")] as const),
    );
    assert.equal(directives.get("default-src"), "'none'");
    assert.equal(directives.get("script-src"), "'self'");
    assert.equal(directives.get("style-src"), "'self'");
    assert.equal(directives.get("connect-src"), "'self' http://127.0.0.1:9000");
    assert.equal(directives.get("frame-ancestors"), "'none'");
  });

  it("tells the page the targets, clusters first, names and UUIDs only", async () => {
    const res = await get(`${EXAMPLE_PATH}/targets.json`, "w");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const t = (await res.json()) as ExampleTargets;
    assert.equal(t.indirect, true);
    assert.deepEqual(
      t.targets.map((x) => [x.kind, x.name, x.uuid, x.nodes.map((n) => n.name).join(",")]),
      [
        ["cluster", "c", CLUSTER, "b,a"],
        ["remote", "a", A, "a"],
        ["remote", "b", B, "b"],
        ["repository", "the gateway's own repository", GW, "the gateway's own repository"],
      ],
    );
    assert.equal(JSON.stringify(t).includes("size"), false);
  });

  it("answers only GET and HEAD, 404 for what it does not have, and leaves other paths", async () => {
    const post = await get(EXAMPLE_PATH, "w", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    const head = await get(`${EXAMPLE_PATH}/app.css`, "w", "HEAD");
    assert.deepEqual([head.status, await head.text()], [200, ""]);
    assert.equal((await get(`${EXAMPLE_PATH}/nothing.js`, "w")).status, 404);
    // The built script and the client's bundle, as `npm run build` leaves them.
    for (const script of ["app.js", "annexgate-client.js"]) {
      const res = await get(`${EXAMPLE_PATH}/${script}`, "w");
      assert.equal(res.status, 200, script);
      assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      if (script === "app.js") assert.match(await res.text(), /from "\.\/annexgate-client\.js"/);
      else await res.arrayBuffer();
    }
    for (const other of ["/examples", "/exampl", "/git-annex/x/v4/put", "/"]) {
      assert.equal((await get(other, "w")).status, 418, other);
    }
  });
});
