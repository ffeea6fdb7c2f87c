/** Location records gathered per key land in the gateway's log, all of them, on a real branch. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { locationsOf } from "../branch/index.js";
import { sample } from "../peers/conformance.js";
import { openedRepository } from "../peers/local/repository.fixture.js";
import { LocationBatcher } from "./location-batcher.js";

const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const C = "cccccccc-0000-4000-8000-000000000003";
const CLUSTER = "ac000000-0000-8000-8000-000000000004";

describe("LocationBatcher", () => {
  const fx = openedRepository("annexgate-batcher-", "gateway");

  it("records arriving together, and later ones, all reach the log", async () => {
    const batcher = new LocationBatcher(fx.repo.branch);
    const k = sample(10).key;
    await Promise.all([A, B, C, CLUSTER].map((u) => batcher.record(k, u, true)));
    // Cluster UUIDs are never written.
    assert.deepEqual((await locationsOf(fx.repo.branch, k)).sort(), [A, B, C]);
    const later = [batcher.record(k, B, false), batcher.record(k, A, true)];
    await Promise.all(later);
    assert.deepEqual((await locationsOf(fx.repo.branch, k)).sort(), [A, C]);
  });

  it("keeps keys apart, and many records at once lose none", async () => {
    const batcher = new LocationBatcher(fx.repo.branch);
    const keys = Array.from({ length: 20 }, () => sample(20).key);
    await Promise.all(
      keys.flatMap((k, i) => [batcher.record(k, A, true), batcher.record(k, i % 2 ? B : C, true)]),
    );
    for (const [i, k] of keys.entries()) {
      assert.deepEqual((await locationsOf(fx.repo.branch, k)).sort(), [A, i % 2 ? B : C].sort());
    }
  });

  it("a malformed UUID is refused alone; the records beside it are written", async () => {
    const batcher = new LocationBatcher(fx.repo.branch);
    const k = sample(30).key;
    const bad = batcher.record(k, "../x", true);
    const good = batcher.record(k, A, true);
    await assert.rejects(bad);
    await good;
    assert.deepEqual(await locationsOf(fx.repo.branch, k), [A]);
  });
});
