/**
 * annexgate wanted / required / groupwanted / group / ungroup / numcopies /
 * mincopies against stock git-annex on one repository: stock reads what
 * annexgate writes and annexgate reads what stock writes, both ways, and
 * bad input is refused as git-annex refuses it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.js");

let tmp: string;
let repo: string;

function ag(...args: string[]): Promise<string> {
  return run(process.execPath, [CLI, ...args], { cwd: repo });
}

function agFails(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: repo }, (err, _out, stderr) => {
      resolve({ code: typeof err?.code === "number" ? err.code : 0, stderr });
    });
  });
}

function stock(...args: string[]): Promise<string> {
  return run("git", ["annex", ...args], { cwd: repo });
}

before(async () => {
  tmp = await makeTempDir("annexgate-pccmd-");
  repo = await gitAnnexRepo(join(tmp, "here"), "here repo");
  await mkdir(join(tmp, "d1"));
  await stock(
    "initremote",
    "r1",
    "type=directory",
    `directory=${join(tmp, "d1")}`,
    "encryption=none",
  );
});

after(async () => {
  if (tmp !== undefined) await removeDir(tmp);
});

describe("preferred content commands, annexgate and stock on one branch", {
  timeout: 120_000,
}, () => {
  it("wanted and required: each reads what the other set", async () => {
    assert.equal(
      await ag("wanted", "r1", "include=*.txt and (copies=2 or present)"),
      "wanted r1 ok\n",
    );
    assert.equal(await stock("wanted", "r1"), "include=*.txt and (copies=2 or present)\n");
    await stock("wanted", "here", "standard");
    assert.equal(await ag("wanted", "here"), "standard\n");
    assert.equal(await ag("wanted", "here repo"), "standard\n");
    await ag("required", "r1", "copies=1");
    assert.equal(await stock("required", "r1"), "copies=1\n");
    await stock("required", "r1", "anything");
    assert.equal(await ag("required", "r1"), "anything\n");
    // A later annexgate change wins over stock's (clock advanced past it).
    await ag("wanted", "here", "present");
    assert.equal(await stock("wanted", "here"), "present\n");
  });

  it("groupwanted, group and ungroup", async () => {
    await ag("groupwanted", "archive", "not copies=archive:2");
    assert.equal(await stock("groupwanted", "archive"), "not copies=archive:2\n");
    await stock("groupwanted", "client", "include=*");
    assert.equal(await ag("groupwanted", "client"), "include=*\n");
    assert.equal(await ag("group", "r1", "archive"), "group r1 ok\n");
    await stock("group", "r1", "backup");
    assert.equal(await stock("group", "r1"), "archive backup\n");
    assert.equal(await ag("group", "r1"), "archive backup\n");
    await ag("ungroup", "r1", "archive");
    assert.equal(await stock("group", "r1"), "backup\n");
  });

  it("numcopies and mincopies", async () => {
    assert.equal(await ag("numcopies"), "global numcopies is not set\n(default is 1)\n");
    assert.equal(await ag("numcopies", "3"), "numcopies 3 ok\n");
    assert.equal(await stock("numcopies"), "3\n");
    await stock("numcopies", "2");
    assert.equal(await ag("numcopies"), "2\n");
    await ag("mincopies", "2");
    assert.equal(await stock("mincopies"), "2\n");
  });

  it("refuses what git-annex refuses", async () => {
    const bad = await agFails("wanted", "r1", "copies=x foo");
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /Parse error: Parse failure: bad number for copies Parse failure: near "foo"/,
    );
    assert.equal(await stock("wanted", "r1"), "include=*.txt and (copies=2 or present)\n");
    assert.match(
      (await agFails("wanted", "nosuchremote")).stderr,
      /no available git remote named "nosuchremote"/,
    );
    assert.match((await agFails("numcopies", "0")).stderr, /Cannot set numcopies to 0/);
    assert.match((await agFails("numcopies", "-1")).stderr, /cannot be negative/);
    assert.match((await agFails("numcopies", "x")).stderr, /Bad number: x/);
  });
});
