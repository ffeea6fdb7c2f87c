import assert from "node:assert/strict";
import { appendFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../test/helpers/index.js";
import { Git, GitConfigValues } from "./index.js";

let tmp: string;
before(async () => {
  tmp = await realpath(await makeTempDir());
});
after(async () => {
  await removeDir(tmp);
});

describe("GitConfigValues", () => {
  it("reads a real repository's config: every value in order, bare keys, booleans", async () => {
    const dir = join(tmp, "repo");
    await run("git", ["init", "-q", dir]);
    await appendFile(
      join(dir, ".git", "config"),
      [
        '[remote "Node.One"]',
        "\tannex-uuid = 11111111-1111-4111-8111-111111111111",
        "\tannex-ignore",
        "\tannex-sync = off",
        "\tfetch = a",
        "\tfetch = b",
        "\tannex-cost = 7",
        "",
      ].join("\n"),
    );
    const config = await GitConfigValues.read(await Git.open(dir));
    assert.equal(config.get("remote.Node.One.annex-uuid"), "11111111-1111-4111-8111-111111111111");
    assert.equal(config.get("remote.Node.One.fetch"), "b", "the last value wins");
    assert.deepEqual(
      [...config.entries()].filter(([k]) => k === "remote.Node.One.fetch").map(([, v]) => v),
      ["a", "b"],
    );
    assert.equal(config.has("remote.Node.One.annex-ignore"), true);
    assert.equal(config.get("remote.Node.One.annex-ignore"), "");
    assert.equal(config.getBool("remote.Node.One.annex-ignore"), true);
    assert.equal(config.getBool("remote.Node.One.annex-sync"), false);
    assert.equal(config.getBool("remote.Node.One.annex-cost"), true);
    assert.equal(config.getBool("remote.Node.One.fetch"), null);
    assert.equal(config.get("remote.node.one.annex-uuid"), null, "a remote's name keeps its case");
  });

  it("parses `git config -z --list` output, values with newlines included", () => {
    const config = GitConfigValues.parse("a.b\nx\ny\0a.c\0\0");
    assert.equal(config.get("a.b"), "x\ny");
    assert.deepEqual(
      [...config.entries()],
      [
        ["a.b", "x\ny"],
        ["a.c", null],
      ],
    );
  });
});
