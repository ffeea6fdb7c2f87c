/**
 * Fault injection: every p2phttp endpoint, against each kind of target
 * (the gateway's own repository, a proxied node, a cluster of a local, an
 * ssh and a p2phttp node), with the client cut off by RST and by a clean
 * close at each phase of a request. After each cut the server's counts
 * (requests, transfer slots, queue, key locks, content locks, held and
 * kept locks) return to where they were, its open descriptors no higher,
 * and the next honest request of the same kind succeeds at once.
 *
 * The server runs in this process (startP2pHttp, the CLI's own start) so
 * the test can read its stats().
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningServer, startP2pHttp } from "../../src/cli/p2phttp.js";
import type { ServerStats } from "../../src/server/index.js";
import { addNodes, configCommand, gatewayRepo, initCluster, uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import {
  BODILESS_PHASES,
  BODY_PHASES,
  CUT_KINDS,
  cutRequest,
  honest,
  type Phase,
  type RawRequest,
  until,
} from "../helpers/raw-http.js";
import { QUIET, type RunningP2pHttp, startStockP2pHttp } from "../helpers/servers.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const CLIENT = "a0e4f1b2-1111-4222-8333-444455556666";

function keyFor(data: Buffer): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}.bin`;
}

/** What one endpoint sends, and what an honest answer must be. */
interface Endpoint {
  readonly name: string;
  readonly phases: readonly Phase[];
  /** The request to cut; `honestCheck` then runs the honest one. */
  request(t: Target): Promise<RawRequest>;
  honestCheck(t: Target): Promise<void>;
}

interface Target {
  readonly name: string;
  readonly uuid: string;
  /** The key every target holds (1 MiB). */
  readonly held: { key: string; data: Buffer };
  readonly lockable: boolean;
}

describe("p2phttp fault injection: every endpoint, target, phase and cut", {
  timeout: 900_000,
}, () => {
  let root: string;
  let sshd: TestSshd;
  let stockNode: RunningP2pHttp;
  let server: RunningServer;
  let port = 0;
  const targets: Target[] = [];
  const savedEnv = { ...process.env };

  const path = (t: Target, op: string, q: Record<string, string> = {}) =>
    `/git-annex/${t.uuid}/v4/${op}?${new URLSearchParams({ clientuuid: CLIENT, ...q })}`;
  const json = async (r: RawRequest) => {
    const reply = await honest(port, r);
    assert.equal(reply.status, 200, `${r.method} ${r.path}: ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body.toString("utf8")) as Record<string, unknown>;
  };
  const putRequest = (t: Target, data: Buffer): RawRequest => ({
    method: "POST",
    path: path(t, "put", { key: keyFor(data) }),
    headers: { "X-git-annex-data-length": String(data.length) },
    body: data,
    receiving: (s) => s.transferSlots > 0,
  });
  const lockRequest = (t: Target): RawRequest => ({
    method: "POST",
    path: path(t, "lockcontent", { key: t.held.key }),
  });
  const keepRequest = (t: Target, lockid: string, body: string): RawRequest => ({
    method: "POST",
    path: path(t, "keeplocked", { lockid }),
    headers: { "Content-Type": "application/json" },
    body: Buffer.from(body),
    receiving: (s) => s.keptLocks > 0 || !t.lockable,
  });
  /** A lock id: a real one where the target locks, else a made-up one. */
  const lockId = async (t: Target) => {
    const r = await json(lockRequest(t));
    assert.equal(r.locked, t.lockable, `lockcontent on ${t.name}`);
    return t.lockable ? String(r.lockid) : "0d3a4d3c-7a5e-4f1c-9d0e-123456789abc";
  };
  const honestKeep = async (t: Target) => {
    const r = await json(keepRequest(t, await lockId(t), '{"unlock": true}\n'));
    assert.deepEqual(r, { locked: false });
  };

  const endpoints: Endpoint[] = [
    {
      name: "checkpresent",
      phases: BODILESS_PHASES,
      request: async (t) => ({
        method: "POST",
        path: path(t, "checkpresent", { key: t.held.key }),
      }),
      honestCheck: async (t) =>
        assert.deepEqual(
          await json({ method: "POST", path: path(t, "checkpresent", { key: t.held.key }) }),
          { present: true },
        ),
    },
    {
      name: "get",
      phases: BODILESS_PHASES,
      request: async (t) => ({
        method: "GET",
        path: path(t, `key/${t.held.key}`),
      }),
      honestCheck: async (t) => {
        const r = await honest(port, {
          method: "GET",
          path: path(t, `key/${t.held.key}`),
        });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, t.held.data);
      },
    },
    {
      name: "put",
      phases: BODY_PHASES,
      request: async (t) => putRequest(t, randomBytes(256 * 1024)),
      honestCheck: async () => undefined, // see the put case below: same key
    },
    {
      name: "putoffset",
      phases: BODILESS_PHASES,
      request: async (t) => ({
        method: "POST",
        path: path(t, "putoffset", { key: keyFor(Buffer.from("putoffset")) }),
      }),
      honestCheck: async (t) => {
        const r = await json({
          method: "POST",
          path: path(t, "putoffset", { key: keyFor(Buffer.from("putoffset")) }),
        });
        assert.equal(typeof r.offset, "number", JSON.stringify(r));
      },
    },
    {
      name: "remove",
      phases: BODILESS_PHASES,
      request: async (t) => ({
        method: "POST",
        path: path(t, "remove", { key: keyFor(Buffer.from("never stored")) }),
      }),
      honestCheck: async (t) => {
        const r = await json({
          method: "POST",
          path: path(t, "remove", { key: keyFor(Buffer.from("never stored")) }),
        });
        assert.equal(r.removed, true, JSON.stringify(r));
      },
    },
    {
      name: "remove-before",
      phases: BODILESS_PHASES,
      // A deadline already past: nothing is removed, the held key stays.
      request: async (t) => ({
        method: "POST",
        path: path(t, "remove-before", { key: t.held.key, timestamp: "0" }),
      }),
      honestCheck: async (t) => {
        const r = await json({
          method: "POST",
          path: path(t, "remove-before", { key: t.held.key, timestamp: "0" }),
        });
        assert.equal(r.removed, false, JSON.stringify(r));
      },
    },
    {
      name: "lockcontent",
      phases: BODILESS_PHASES,
      request: async (t) => lockRequest(t),
      honestCheck: async (t) => {
        const id = await lockId(t);
        if (t.lockable) await json(keepRequest(t, id, '{"unlock": true}\n'));
      },
    },
    {
      name: "keeplocked",
      phases: BODY_PHASES,
      request: async (t) =>
        keepRequest(t, await lockId(t), '{"unlock": false}\n{"unlock": true}\n'),
      honestCheck: honestKeep,
    },
    {
      name: "gettimestamp",
      phases: BODILESS_PHASES,
      request: async (t) => ({ method: "POST", path: path(t, "gettimestamp") }),
      honestCheck: async (t) => {
        const r = await json({ method: "POST", path: path(t, "gettimestamp") });
        assert.equal(typeof r.timestamp, "number");
      },
    },
  ];

  let baseline: ServerStats;
  const backToBaseline = async (what: string) => {
    let last = server.p2p.stats();
    try {
      await until("the server's counts to return to their baseline", () => {
        last = server.p2p.stats();
        const { openFds, requestsSeen: _, ...counts } = last;
        const { openFds: baseFds, requestsSeen: __, ...baseCounts } = baseline;
        return openFds <= baseFds && JSON.stringify(counts) === JSON.stringify(baseCounts);
      });
    } catch {
      assert.fail(
        `${what}: stats ${JSON.stringify(last)} did not return to ${JSON.stringify(baseline)}`,
      );
    }
  };

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-faults-");
    for (const n of ["solo", "node1", "node2", "node3"]) await gitAnnexRepo(join(root, n), n);
    sshd = await startSshd("stock");
    stockNode = await startStockP2pHttp(join(root, "node3"), ["--wideopen"]);
    const gw = await gatewayRepo(join(root, "gw"), "gateway");
    const git = (...a: string[]) => run("git", a, { cwd: gw });
    await git("remote", "add", "solo", join(root, "solo"));
    await git("config", "remote.solo.annex-proxy", "true");
    await addNodes(gw, "mycluster", [
      { name: "node1", url: join(root, "node1") },
      {
        name: "node2",
        url: `${sshd.host}:${join(root, "node2")}`,
        uuid: await uuidOf(join(root, "node2")),
      },
      {
        name: "node3",
        url: join(root, "node3"),
        annexUrl: `annex+http://127.0.0.1:${stockNode.port}/git-annex/`,
        uuid: await uuidOf(join(root, "node3")),
      },
    ]);
    await git("config", "annex.security.allowed-ip-addresses", "all");
    await git("config", "annex.sshcaching", "false");
    const cluster = await initCluster("annexgate", gw, "mycluster", sshd.clientEnv());
    await configCommand("annexgate", gw, ["updateproxy"], sshd.clientEnv());
    // The gateway, in this process, reaches node2 through the test's ssh wrapper.
    Object.assign(process.env, sshd.clientEnv());
    server = await startP2pHttp(
      ["--bind", "127.0.0.1", "--port", "0", "--wideopen", "--jobs", "4", ...QUIET],
      gw,
      // A lock whose lockcontent answer was fully sent is the client's
      // until it expires, even if the client then vanished; short here.
      { lockRetentionMs: 1500 },
    );
    port = Number(server.address.split(":").pop());
    const held = randomBytes(1024 * 1024);
    for (const [name, uuid, lockable] of [
      ["gateway", await uuidOf(gw), true],
      ["proxied node", await uuidOf(join(root, "solo")), true],
      ["cluster", cluster, false],
    ] as const) {
      const t: Target = { name, uuid, held: { key: keyFor(held), data: held }, lockable };
      assert.equal((await json(putRequest(t, held))).stored, true, `put to ${name}`);
      targets.push(t);
    }
    // Warm up: every honest request once, so connections to the nodes are open.
    for (const t of targets) for (const e of endpoints) await e.honestCheck(t);
    await until("the warm-up to settle", () => server.p2p.stats().requests === 0);
    baseline = server.p2p.stats();
    assert.equal(baseline.transferSlots, 0);
    assert.equal(baseline.heldLocks, 0);
  });
  after(async () => {
    await server?.stop();
    await stockNode?.stop();
    await sshd?.stop();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    if (root) await removeDir(root);
  });

  // The table: generated, one test per target × endpoint × phase × cut.
  for (const targetIndex of [0, 1, 2]) {
    const targetName = ["gateway", "proxied node", "cluster"][targetIndex];
    for (const e of endpoints) {
      for (const phase of e.phases) {
        for (const kind of CUT_KINDS) {
          test(`${targetName}: ${e.name} cut by ${kind} at ${phase}`, async () => {
            const t = targets[targetIndex] as Target;
            const r = await e.request(t);
            await cutRequest({ port, stats: () => server.p2p.stats() }, r, phase, kind);
            await backToBaseline("after the cut");
            if (e.name === "put") {
              // The same key, honestly, at once: stored (not refused as busy).
              const again = await json(r);
              assert.equal(again.stored, true, JSON.stringify(again));
            } else {
              await e.honestCheck(t);
            }
            await backToBaseline("after the honest request");
          });
        }
      }
    }
  }
});
