import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { newAnnexBranch } from "../branch.fixture.js";
import {
  EXPORT_LOG,
  exportedTreesOf,
  parseExportLog,
  readExportLog,
  recordExportBeginning,
  recordExportUnderway,
} from "./export.js";

const A = "eba8edcd-d99a-4e95-b876-3f9eff4ae527";
const B = "11111111-1111-4111-8111-111111111111";
const R = "4f2cc4df-6ea4-4db1-a3bc-79378573506a";
const T1 = "f7b31771788f976f22d37184e3268013908b8385";
const T2 = "0123456789abcdef0123456789abcdef01234567";
const T0 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

describe("export.log", () => {
  it("reads a line as stock git-annex writes it", () => {
    const log = `1796528789s ${A}:${R} ${T1}\n`;
    assert.deepEqual(parseExportLog(log), [
      { participants: { from: A, to: R }, exported: { tree: T1, incomplete: [] } },
    ]);
    assert.deepEqual(exportedTreesOf(log, R), [T1]);
    assert.deepEqual(exportedTreesOf(log, A), []);
  });

  it("the newest line per participants wins; incomplete trees follow the exported one", () => {
    const log = [`2s ${A}:${R} ${T2} ${T0}`, `1s ${A}:${R} ${T1}`, ""].join("\n");
    assert.deepEqual(parseExportLog(log)[0]?.exported, { tree: T2, incomplete: [T0] });
    assert.deepEqual(exportedTreesOf(log, R), [T2]);
  });

  it("two repositories exporting different trees to one remote are a conflict; the same tree is one", () => {
    const conflict = `1s ${A}:${R} ${T1}\n1s ${B}:${R} ${T2}\n`;
    assert.deepEqual(exportedTreesOf(conflict, R), [T1, T2]);
    const agreed = `1s ${A}:${R} ${T1}\n3s ${B}:${R} ${T1}\n`;
    assert.deepEqual(exportedTreesOf(agreed, R), [T1]);
  });

  it("skips lines that do not parse", () => {
    const log = [
      `1s ${A}${R} ${T1}`, // no colon
      `1s :${R} ${T1}`, // no from
      `1s ${A}: ${T1}`, // no to
      `1s ${A}:${R}`, // no tree
      `1s ${A}:${R}  ${T1}`, // an empty ref
      `x ${A}:${R} ${T1}`, // no clock
      `5s ${B}:${R} ${T2}`,
      "",
    ].join("\n");
    assert.deepEqual(exportedTreesOf(log, R), [T2]);
  });

  it("is read with the lines of the git-annex branches not merged yet (a client's pushed synced/git-annex)", async () => {
    const dir = await makeTempDir("annexgate-export-log-");
    try {
      const { git, branch } = await newAnnexBranch(join(dir, "r"), A, "gw");
      await branch.change(EXPORT_LOG, () => `1s ${A}:${R} ${T1}\n`);
      assert.deepEqual(exportedTreesOf(await readExportLog(branch), R), [T1]);
      // A client exported T2 and pushed its branch; the gateway has not merged it.
      const blob = (
        await git.run(["hash-object", "-w", "--stdin"], { input: `5s ${A}:${R} ${T2}\n` })
      )
        .toString()
        .trim();
      const tree = await git.mktree([
        { mode: "100644", type: "blob", sha: blob, name: EXPORT_LOG },
      ]);
      const commit = await git.commitTree({ tree, parents: [], message: "pushed" });
      await git.run(["update-ref", "refs/heads/synced/git-annex", commit]);
      assert.deepEqual(exportedTreesOf(await readExportLog(branch), R), [T2]);
      // A branch without an export log adds nothing.
      const empty = await git.commitTree({ tree: await git.mktree([]), parents: [], message: "e" });
      await git.run(["update-ref", "refs/remotes/other/git-annex", empty]);
      assert.deepEqual(exportedTreesOf(await readExportLog(branch), R), [T2]);
      await branch.close();
    } finally {
      await removeDir(dir);
    }
  });

  it("an export is recorded in two steps, as git-annex writes them, and the tree is grafted", async () => {
    const dir = await makeTempDir("annexgate-export-record-");
    try {
      const { git, branch } = await newAnnexBranch(join(dir, "r"), A, "here");
      const tree = await git.mktree([
        { mode: "100644", type: "blob", sha: await git.hashObject("x\n"), name: "x" },
      ]);
      const emptyTree = await git.mktree([]);
      // Another repository exported T1 before: it moves along once the export is under way.
      await branch.change(EXPORT_LOG, () => `1s ${B}:${R} ${T1}\n`);
      await recordExportBeginning(branch, { here: A, remote: R, tree, emptyTree });
      const begun = parseExportLog(await branch.read(EXPORT_LOG));
      assert.deepEqual(begun.find((e) => e.participants.from === A)?.exported, {
        tree: emptyTree,
        incomplete: [tree],
      });
      // The tree is reachable from the branch: grafted, then taken out.
      const log = (await git.run(["log", "--format=%s", "git-annex", "-2"])).toString("utf8");
      assert.equal(log, "graft cleanup\ngraft\n");
      assert.equal(await git.revParse(`git-annex^:export.tree`), tree);
      assert.equal(await git.revParse(`git-annex:export.tree`), null);
      await recordExportUnderway(branch, { here: A, remote: R, oldTrees: [T1], tree });
      const text = await branch.read(EXPORT_LOG);
      assert.deepEqual(exportedTreesOf(text, R), [tree]);
      for (const e of parseExportLog(text)) assert.deepEqual(e.exported.incomplete, []);
      assert.match(text, new RegExp(`^\\d+(\\.\\d+)?s ${A}:${R} ${tree}$`, "m"));
      await branch.close();
    } finally {
      await removeDir(dir);
    }
  });
});
