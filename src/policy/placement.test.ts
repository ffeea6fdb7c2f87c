/**
 * The cluster placement rules as pure functions: upload targets, read
 * order, the gateway's own copy, and what "wants" means when preferred
 * content cannot be evaluated. Real Policy objects over real expressions;
 * sizes are a real LiveSizes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseKey } from "../keys/index.js";
import { NO_KEY_STATE, Policy, wantsKey } from "../preferred-content/index.js";
import { RecordingLogger } from "../util/index.js";
import { LiveSizes } from "./live-sizes.js";
import { GATEWAY_COST, gatewayMayKeepCopy, isClusterCopy } from "./own-copy.js";
import { readOrder, uploadTargets } from "./placement.js";
import { LivePlacement, wantsUpload } from "./upload-placement.js";

const A = "a0000000-0000-4000-8000-000000000001";
const B = "b0000000-0000-4000-8000-000000000002";
const C = "c0000000-0000-4000-8000-000000000003";
const GW = "f0000000-0000-4000-8000-00000000000f";
const CLUSTER = "ac000000-0000-8000-8000-000000000009";
const KEY = parseKey("SHA256E-s100--0123456789abcdef.jpg");

const nodes = [
  { uuid: A, cost: 100 },
  { uuid: B, cost: 50 },
  { uuid: C, cost: 100 },
];
const uuids = (xs: readonly { uuid: string }[]) => xs.map((x) => x.uuid);

function policyWith(preferred: Record<string, string>): Policy {
  return new Policy({
    groups: new Map(),
    trust: new Map(),
    preferred: new Map(Object.entries(preferred)),
    required: new Map(),
    groupPreferred: new Map(),
  });
}

describe("uploadTargets", () => {
  it("picks the nodes that lack the key and want it", () => {
    const got = uploadTargets(nodes, new Set([A]), (u) => u === A || u === C);
    assert.deepEqual(uuids(got), [C]);
  });

  it("falls back to every node lacking the key when none of those wants it", () => {
    const got = uploadTargets(nodes, new Set([B]), (u) => u === B);
    assert.deepEqual(uuids(got), [A, C]);
  });

  it("falls back to every node when all have the key", () => {
    const got = uploadTargets(nodes, new Set([A, B, C]), () => true);
    assert.deepEqual(uuids(got), [A, B, C]);
  });

  it("gives no target when there is no node", () => {
    assert.deepEqual(
      uploadTargets([], new Set(), () => true),
      [],
    );
  });
});

describe("readOrder", () => {
  it("asks logged holders first, cheapest first, then the rest in order", () => {
    const got = readOrder(nodes, new Set([A, B]), () => 0);
    assert.deepEqual(uuids(got), [B, A, C]);
  });

  it("among equally cheap holders, the least busy comes first", () => {
    const busy = new Map([[A, 3]]);
    const got = readOrder(nodes, new Set([A, C]), (u) => busy.get(u) ?? 0);
    assert.deepEqual(uuids(got), [C, A, B]);
  });

  it("with nothing logged, keeps the given order (the log can lag)", () => {
    assert.deepEqual(uuids(readOrder(nodes, new Set(), () => 0)), [A, B, C]);
  });
});

describe("the gateway's own copy", () => {
  const cluster = { clusterUuid: CLUSTER, gatewayUuid: GW };

  it("is not the cluster's copy; a node's is, the cluster's own UUID is not", () => {
    assert.equal(isClusterCopy(GW, cluster), false);
    assert.equal(isClusterCopy(CLUSTER, cluster), false);
    assert.equal(isClusterCopy(A, cluster), true);
  });

  it("is read first: its cost is below any node's", () => {
    const all = [...nodes, { uuid: GW, cost: GATEWAY_COST }];
    assert.equal(readOrder(all, new Set([A, B, C, GW]), () => 0)[0]?.uuid, GW);
  });

  it("is taken only when the gateway's preferred content is set and wants the key", () => {
    const none = policyWith({});
    assert.equal(gatewayMayKeepCopy(none, GW), false);
    // Without an expression a repository wants everything, but not the gateway.
    assert.equal(wantsKey(none, GW, KEY), true);
    assert.equal(wantsUpload(none, GW, KEY, { state: NO_KEY_STATE, gatewayUuid: GW }), false);
    const wanting = policyWith({ [GW]: "include=*.jpg" });
    assert.equal(gatewayMayKeepCopy(wanting, GW), true);
    const opts = { state: NO_KEY_STATE, gatewayUuid: GW, file: "a/b.jpg" };
    assert.equal(wantsUpload(wanting, GW, KEY, opts), true);
    assert.equal(wantsUpload(wanting, GW, KEY, { ...opts, file: "a/b.txt" }), false);
  });
});

describe("wantsUpload when preferred content cannot be evaluated", () => {
  // A glob git-annex cannot compile fails when it is matched, not when parsed.
  const broken = policyWith({ [A]: "include=[abc", [B]: "include=*.jpg" });
  const opts = { state: NO_KEY_STATE, gatewayUuid: GW, file: "x.jpg" };

  it("the evaluation really fails (the premise of this test)", () => {
    assert.throws(() => wantsKey(broken, A, KEY, { file: "x.jpg" }));
  });

  it("means 'does not want', and says so in the log", () => {
    const logger = new RecordingLogger();
    assert.equal(wantsUpload(broken, A, KEY, { ...opts, logger }), false);
    const lines = logger.lines();
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? "", new RegExp(`preferred content of ${A} cannot be evaluated`));
  });

  it("leaves the upload to the nodes that do want it", () => {
    const wants = (u: string) => wantsUpload(broken, u, KEY, opts);
    // B's expression matches; C has none, so wants everything; A is left out.
    assert.deepEqual(uuids(uploadTargets(nodes, new Set(), wants)), [B, C]);
  });
});

describe("LivePlacement", () => {
  it("answers wants by policy, holds room by live sizes, and frees it on release", async () => {
    const live = new LiveSizes(new Map([[A, 950n]]), new Map([[A, 1000n]]));
    const placement = new LivePlacement({
      gatewayUuid: GW,
      policy: async () => policyWith({ [A]: "include=*.jpg", [B]: "exclude=*.jpg" }),
      keyState: async () => ({ locations: [C] }),
      live,
    });
    const d = await placement.prepare(KEY, "dir/x.jpg");
    assert.deepEqual([...(d.locations ?? [])], [C]);
    assert.equal(d.wants(A), true);
    assert.equal(d.wants(B), false);
    // 950 + 100 > 1000: no room on A; B has no maximum.
    const [onA, hold] = await d.reserve([A, B]);
    assert.equal(onA, null);
    assert.ok(hold);
    assert.equal(live.size(B), 100n);
    hold.release();
    assert.equal(live.size(B), 0n);
  });

  it("a remove under way frees its room only once committed", async () => {
    const live = new LiveSizes(new Map([[A, 500n]]), new Map([[A, 550n]]));
    const placement = new LivePlacement({
      gatewayUuid: GW,
      policy: async () => policyWith({}),
      keyState: async () => NO_KEY_STATE,
      live,
    });
    const removing = placement.removing(A, KEY);
    assert.equal(live.size(A), 500n);
    removing.commit();
    assert.equal(live.size(A), 400n);
  });

  it("logs an unstable expression once per policy", async () => {
    const logger = new RecordingLogger();
    const policy = policyWith({ [A]: "not present" });
    const placement = new LivePlacement({
      gatewayUuid: GW,
      policy: async () => policy,
      keyState: async () => NO_KEY_STATE,
      live: new LiveSizes(),
      logger,
    });
    for (let i = 0; i < 2; i++) (await placement.prepare(KEY)).wants(A);
    assert.equal(logger.lines().filter((l) => l.includes("unstable")).length, 1);
  });
});
