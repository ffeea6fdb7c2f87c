/**
 * `p2phttp --directory DIR` and symlinks, over real HTTP with real
 * repositories: an entry that is a symlink to a repository outside DIR is
 * not served by annexgate (and is logged once) unless --follow-symlinks;
 * a symlink to a repository inside DIR is served; stock `git annex p2phttp
 * --directory` serves the outside one, which is why the flag exists.
 */
import assert from "node:assert/strict";
import { mkdir, realpath, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import {
  type RunningP2pHttp,
  requestLines,
  startAnnexgate,
  startStockP2pHttp,
} from "../helpers/servers.js";

const CLIENT = "00000000-1111-2222-3333-444444444444";
const KEY = "SHA256E-s3--2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

/** Wait (bounded) until the server's stderr satisfies `ok`. */
async function waitForStderr(server: RunningP2pHttp, ok: (err: string) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ok(server.stderr())) {
    if (Date.now() > deadline) throw new Error(`server never logged it:\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("p2phttp --directory with symlinked entries", { timeout: 300_000 }, () => {
  let root = "";
  let served = "";
  let insideUuid = "";
  let outsideUuid = "";

  before(async () => {
    root = await makeTempDir("annexgate-dir-symlinks-");
    served = join(root, "served");
    await mkdir(served);
    await mkdir(join(root, "elsewhere"));
    const inside = await gitAnnexRepo(join(served, "inside"), "inside");
    const outside = await gitAnnexRepo(join(root, "elsewhere", "private"), "private");
    await symlink(outside, join(served, "published"));
    await symlink(inside, join(served, "alias"));
    await symlink(join(root, "nowhere"), join(served, "dangling"));
    insideUuid = (await run("git", ["config", "annex.uuid"], { cwd: inside })).trim();
    outsideUuid = (await run("git", ["config", "annex.uuid"], { cwd: outside })).trim();
  });

  after(async () => {
    if (root) await removeDir(root);
  });

  const checkpresent = (server: RunningP2pHttp, uuid: string) =>
    fetch(
      `${server.base}/${uuid}/v4/checkpresent?key=${KEY}&clientuuid=${CLIENT}&serveruuid=${uuid}`,
      {
        method: "POST",
      },
    );

  it("refuses a symlink to outside DIR by default, says why once, and serves the rest", async () => {
    const server = await startAnnexgate(root, [
      "--wideopen",
      "--log-format",
      "json",
      "--directory",
      served,
    ]);
    try {
      const ok = await checkpresent(server, insideUuid);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { present: false });
      for (let i = 1; i <= 2; i++) {
        const refused = await checkpresent(server, outsideUuid);
        assert.equal(refused.status, 404);
        const body = await refused.text();
        assert.ok(!body.includes(root), `no server path in the reply: ${body}`);
        // The request's own log line comes after the rescan it caused.
        await waitForStderr(
          server,
          (err) => requestLines(err).filter((l) => l.uuid === outsideUuid).length >= i,
        );
      }
      const err = server.stderr();
      const target = await realpath(join(root, "elsewhere", "private"));
      const line = `not serving ${join(served, "published")}: it is a symlink to ${target}, outside ${served}`;
      assert.equal(count(err, line), 1, err);
      // The symlink to a repository inside DIR is the same repository, served once.
      assert.equal(count(err, "not serving"), 1, err);
    } finally {
      await server.stop();
    }
  });

  it("--follow-symlinks serves it, as stock git annex p2phttp --directory does", async () => {
    const ours = await startAnnexgate(root, [
      "--wideopen",
      "--follow-symlinks",
      "--directory",
      served,
    ]);
    try {
      const r = await checkpresent(ours, outsideUuid);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { present: false });
      assert.ok(!ours.stderr().includes("not serving"), ours.stderr());
    } finally {
      await ours.stop();
    }
    const stock = await startStockP2pHttp(root, ["--wideopen", "--directory", served]);
    try {
      const r = await checkpresent(stock, outsideUuid);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { present: false });
    } finally {
      await stock.stop();
    }
  });

  it("--follow-symlinks without --directory is a usage error", async () => {
    await assert.rejects(
      startAnnexgate(join(served, "inside"), ["--wideopen", "--follow-symlinks"]),
      /--follow-symlinks is for --directory/,
    );
  });
});
