/**
 * The one snapshot builder over a real repository: logged trust with the
 * git config's overrides on top, cluster.log turned round, unused keys.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { newAnnexBranch } from "../branch/branch.fixture.js";
import { type AnnexBranch, recordCluster, recordTrust } from "../branch/index.js";
import type { Git } from "../git/index.js";
import { buildPolicySnapshot, configuredTrust } from "./policy-snapshot.js";

const HERE = "e0000000-0000-4000-8000-00000000000e";
const A = "a0000000-0000-4000-8000-000000000001";
const B = "b0000000-0000-4000-8000-000000000002";
const C = "c0000000-0000-4000-8000-000000000003";
const CLUSTER1 = "ac000000-0000-8000-8000-000000000001";
const CLUSTER2 = "ac000000-0000-8000-8000-000000000002";

describe("buildPolicySnapshot", () => {
  let dir: string;
  let git: Git;
  let branch: AnnexBranch;

  before(async () => {
    dir = await makeTempDir("annexgate-polsnap-");
    ({ git, branch } = await newAnnexBranch(dir, HERE, "here"));
    await recordTrust(branch, A, "trusted");
    await recordTrust(branch, B, "untrusted");
    await recordCluster(branch, CLUSTER1, [A, B]);
    await recordCluster(branch, CLUSTER2, [A]);
    const config = (k: string, v: string) => run("git", ["-C", dir, "config", k, v]);
    await config("remote.a.annex-uuid", A);
    await config("remote.a.annex-trustlevel", "semitrusted");
    // Not a trust level git-annex knows: ignored, as git-annex ignores it.
    await config("remote.b.annex-uuid", B);
    await config("remote.b.annex-trustlevel", "very");
    // A level for a remote with no known UUID overrides nothing.
    await config("remote.c.annex-trustlevel", "dead");
  });

  after(async () => {
    await branch?.close();
    if (dir) await removeDir(dir);
  });

  it("reads only the valid overrides of remotes with a UUID", async () => {
    assert.deepEqual(await configuredTrust(git), new Map([[A, "semitrusted"]]));
  });

  it("puts the overrides over trust.log", async () => {
    const s = await buildPolicySnapshot({ git, branch, uuid: HERE });
    assert.equal(s.trust.get(A), "semitrusted");
    assert.equal(s.trust.get(B), "untrusted");
    assert.equal(s.trust.get(C), undefined);
    assert.equal(s.hereUuid, HERE);
  });

  it("maps each node to the clusters it is in, and has no unused keys before `unused` ran", async () => {
    const s = await buildPolicySnapshot({ git, branch, uuid: HERE });
    assert.deepEqual([...(s.clusters?.get(A) ?? [])].sort(), [CLUSTER1, CLUSTER2]);
    assert.deepEqual([...(s.clusters?.get(B) ?? [])], [CLUSTER1]);
    assert.equal(s.unusedKeys?.size, 0);
  });

  it("takes the sizes it is given, and none otherwise", async () => {
    const sizes = { maxSizes: new Map([[A, 10]]), repoSizes: new Map([[A, 4]]) };
    const s = await buildPolicySnapshot({ git, branch, uuid: HERE }, sizes);
    assert.equal(s.maxSizes?.get(A), 10);
    assert.equal(s.repoSizes?.get(A), 4);
    const bare = await buildPolicySnapshot({ git, branch, uuid: HERE });
    assert.equal(bare.repoSizes, undefined);
  });
});
