import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exportCommitRefs, parseHookInput, parseTrackingBranch, pushedExport } from "./pushed.js";

const Z = "0".repeat(40);
const S = "a".repeat(40);

describe("what a push exports", () => {
  it("reads post-receive's input, skipping lines that are not two shas and a ref", () => {
    const input = `${Z} ${S} refs/heads/master\ngarbage\n${S} ${Z} refs/heads/old\n`;
    assert.deepEqual(
      parseHookInput(input).map((p) => p.ref),
      ["refs/heads/master", "refs/heads/old"],
    );
  });

  it("splits a tracking branch at its first colon", () => {
    assert.deepEqual(parseTrackingBranch("master"), { branch: "master", subdir: null });
    assert.deepEqual(parseTrackingBranch("master:a/b"), { branch: "master", subdir: "a/b" });
    assert.equal(parseTrackingBranch(""), null);
    assert.equal(parseTrackingBranch(undefined), null);
  });

  it("exports the branch when it was pushed, else its synced branch", () => {
    const push = (...refs: string[]) => refs.map((ref) => ({ oldSha: Z, newSha: S, ref }));
    const tb = { branch: "master", subdir: null };
    assert.deepEqual(pushedExport(tb, push("refs/heads/master", "refs/heads/synced/master")), {
      branch: "master",
      treeish: "master",
    });
    assert.deepEqual(
      pushedExport({ branch: "master", subdir: "d" }, push("refs/heads/synced/master")),
      {
        branch: "refs/heads/synced/master",
        treeish: "refs/heads/synced/master:d",
      },
    );
    assert.equal(pushedExport(tb, push("refs/heads/other", "refs/heads/synced/git-annex")), null);
    assert.deepEqual(exportCommitRefs("ex", "refs/heads/synced/master"), {
      trackingRef: "refs/remotes/ex/synced/master",
      localRef: "refs/heads/synced/master",
      base: "synced/master",
    });
  });
});
