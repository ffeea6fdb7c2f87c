/**
 * A stock git-annex client reaches annexgate through a real sshd on
 * loopback: its remote is `localhost:/path/gw`, and every login runs
 * annexgate's git-annex-shell (test/helpers/sshd.ts says how). sync, copy
 * --to, get --from, drop --from, whereis and the full `git annex
 * testremote` go over it; then the GIT_ANNEX_SHELL_* environment.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run, runOutcome } from "../helpers/index.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

/** Runs a command to its end, failing or not. */
const runAll = (cmd: string, args: readonly string[], cwd: string, env: Record<string, string>) =>
  runOutcome(cmd, args, { cwd, env });

describe("stock git-annex over a real sshd to annexgate's git-annex-shell", () => {
  let sshd: TestSshd;
  let dir = "";
  let gw = "";
  let client = "";
  let gwUuid = "";

  const git = (cwd: string, ...args: string[]) => run("git", args, { cwd, env: sshd.clientEnv() });
  const annex = (...args: string[]) => git(client, "annex", ...args);
  const annexAll = (...args: string[]) =>
    runAll("git", ["annex", ...args], client, sshd.clientEnv());

  before(async () => {
    sshd = await startSshd("annexgate");
    dir = await makeTempDir("annexgate-ssh-");
    gw = join(dir, "gw");
    client = join(dir, "client");
    await gitAnnexRepo(gw, "gw");
    await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: gw });
    gwUuid = (await run("git", ["config", "annex.uuid"], { cwd: gw })).trim();
    await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client], { env: sshd.clientEnv() });
    for (const [k, v] of clientGitConfig) await git(client, "config", k, v);
    await annex("init", "-q", "client");
  });

  after(async () => {
    await sshd?.stop();
    // A git-annex process in gw may still be tidying its temp files.
    for (let attempt = 1; dir !== ""; attempt++) {
      try {
        await removeDir(dir);
        break;
      } catch (e) {
        if (attempt >= 10) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });

  it("syncs: configlist, the git push and fetch, and the git-annex branch go through annexgate", async () => {
    await writeFile(join(client, "small.txt"), "small file\n");
    await writeFile(join(client, "big.bin"), randomBytes(3 * 1024 * 1024 + 17));
    await annex("add", "-q", "small.txt", "big.bin");
    await git(client, "commit", "-q", "-m", "two files");
    await annex("sync", "--no-content");
    assert.equal((await git(client, "config", "remote.origin.annex-uuid")).trim(), gwUuid);
    // The push landed in gw.
    const synced = (await run("git", ["rev-parse", "synced/master"], { cwd: gw })).trim();
    assert.equal(synced, (await git(client, "rev-parse", "master")).trim());
    const logins = await sshd.logins();
    assert.ok(
      logins.some((l) => /^annexgate git-annex-shell 'configlist'/.test(l)),
      logins.join("\n"),
    );
    assert.ok(
      logins.some((l) => /^annexgate git-receive-pack /.test(l)),
      logins.join("\n"),
    );
    assert.ok(logins.every((l) => l.startsWith("annexgate ")));
  });

  it("copy --to origin stores through p2pstdio, and whereis lists origin", async () => {
    await annex("copy", "--to", "origin", "small.txt", "big.bin");
    for (const f of ["small.txt", "big.bin"]) {
      const key = (await annex("lookupkey", f)).trim();
      // gw has the object, with the same bytes.
      const where = (await run("git", ["annex", "contentlocation", key], { cwd: gw })).trim();
      assert.deepEqual(await readFile(join(gw, where)), await readFile(join(client, f)));
      // gw's own location log says so (written by annexgate's shell).
      const gwWhere = await run("git", ["annex", "whereis", "--key", key], { cwd: gw });
      assert.match(gwWhere, /gw \[here\]/);
    }
    const whereis = await annex("whereis", "big.bin");
    assert.match(whereis, /2 copies/);
    assert.match(whereis, /gw \[origin\]/);
    const logins = await sshd.logins();
    assert.ok(
      logins.some((l) => l.startsWith(`annexgate git-annex-shell 'p2pstdio' '${gw}'`)),
      logins.join("\n"),
    );
  });

  it("drop (locking origin's copy), then get --from origin", async () => {
    const before = await readFile(join(client, "big.bin"));
    await annex("drop", "big.bin");
    await assert.rejects(readFile(join(client, "big.bin")), "content dropped here");
    await annex("get", "--from", "origin", "big.bin");
    assert.deepEqual(await readFile(join(client, "big.bin")), before);
  });

  it("drop --from origin removes gw's copy", async () => {
    const key = (await annex("lookupkey", "small.txt")).trim();
    await annex("drop", "--from", "origin", "small.txt");
    const whereis = await annex("whereis", "small.txt");
    assert.match(whereis, /1 copy/);
    assert.doesNotMatch(whereis, /origin/);
    const r = await runAll("git", ["annex", "contentlocation", key], gw, {});
    assert.notEqual(r.code, 0, "gw no longer has the content");
  });

  it("passes the full git annex testremote", async () => {
    const r = await annexAll("testremote", "origin");
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, out.slice(-4000));
    const m = /All (\d+) tests passed/.exec(out);
    assert.ok(m, out.slice(-2000));
    assert.ok(Number(m[1]) > 500, `full testremote runs over 500 checks, got ${m[1]}`);
  });

  it("GIT_ANNEX_SHELL_READONLY: no stores and no removals; reading still works", async () => {
    await writeFile(join(client, "ro.txt"), "read-only test\n");
    await annex("add", "-q", "ro.txt");
    await git(client, "commit", "-q", "-m", "ro");
    await sshd.useShell("annexgate", { GIT_ANNEX_SHELL_READONLY: "1" });
    try {
      const copy = await annexAll("copy", "--to", "origin", "ro.txt");
      assert.notEqual(copy.code, 0);
      // What stock git-annex-shell gives the client here too (the ERROR is not shown).
      assert.match(copy.stdout + copy.stderr, /Transfer failed/);
      const key = (await annex("lookupkey", "ro.txt")).trim();
      assert.notEqual((await runAll("git", ["annex", "contentlocation", key], gw, {})).code, 0);
      const drop = await annexAll("drop", "--from", "origin", "big.bin");
      assert.notEqual(drop.code, 0);
      assert.match(await annex("whereis", "big.bin"), /gw \[origin\]/);
      // Reading is allowed: checkpresent through fsck --from, and get.
      await annex("drop", "big.bin");
      await annex("get", "--from", "origin", "big.bin");
    } finally {
      await sshd.useShell("annexgate");
    }
  });

  it("GIT_ANNEX_SHELL_APPENDONLY: stores, but no removals", async () => {
    await sshd.useShell("annexgate", { GIT_ANNEX_SHELL_APPENDONLY: "1" });
    try {
      await annex("copy", "--to", "origin", "ro.txt");
      assert.match(await annex("whereis", "ro.txt"), /gw \[origin\]/);
      const drop = await annexAll("drop", "--from", "origin", "ro.txt");
      assert.notEqual(drop.code, 0);
      assert.match(drop.stdout + drop.stderr, /append-only/);
      assert.match(await annex("whereis", "ro.txt"), /gw \[origin\]/);
    } finally {
      await sshd.useShell("annexgate");
    }
  });

  it("GIT_ANNEX_SHELL_DIRECTORY and GIT_ANNEX_SHELL_LIMITED refuse what they must", async () => {
    await sshd.useShell("annexgate", { GIT_ANNEX_SHELL_DIRECTORY: join(dir, "elsewhere") });
    try {
      const fetch = await runAll("git", ["fetch", "origin"], client, sshd.clientEnv());
      assert.notEqual(fetch.code, 0);
      assert.match(fetch.stderr, /Only allowed to access .*elsewhere not /);
      const copy = await annexAll("copy", "--to", "origin", "--force", "small.txt");
      assert.notEqual(copy.code, 0);
    } finally {
      await sshd.useShell("annexgate");
    }
    await sshd.useShell("annexgate", {
      GIT_ANNEX_SHELL_DIRECTORY: gw,
      GIT_ANNEX_SHELL_LIMITED: "1",
    });
    try {
      const fetch = await runAll("git", ["fetch", "origin"], client, sshd.clientEnv());
      assert.notEqual(fetch.code, 0);
      assert.match(fetch.stderr, /Action blocked by GIT_ANNEX_SHELL_LIMITED/);
      // git-annex's own commands are still served in the allowed directory.
      await annex("copy", "--to", "origin", "small.txt");
      assert.match(await annex("whereis", "small.txt"), /gw \[origin\]/);
    } finally {
      await sshd.useShell("annexgate");
    }
  });
});
