/**
 * Load on `annexgate p2phttp` from stock git-annex clients: four clients
 * loop get/drop with -J4 over 50 files while another client is killed in
 * the middle of downloads and uploads again and again. Every operation must
 * finish within a bound, nothing may stall, and interrupted transfers must
 * resume (or their temp files be cleaned) so that nothing is left behind.
 * Loops are bounded by count and by time.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const OP_BOUND_MS = 120_000;
const ROUNDS = 3;
const KILLS = 8;

/** Run git with a time bound; resolves with the elapsed ms, rejects on failure or timeout. */
function timedGit(cwd: string, args: string[], boundMs = OP_BOUND_MS): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn("git", args, { cwd, detached: true, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {}
      reject(new Error(`stalled: git ${args.join(" ")} took over ${boundMs} ms`));
    }, boundMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Date.now() - started);
      else reject(new Error(`git ${args.join(" ")} exited ${code}: ${err}`));
    });
  });
}

/**
 * Start git, and kill its whole process group once more bytes than
 * `before` have arrived in `bytesIn()` (the transfer is under way), or
 * when it ends by itself; an event, not a timer, so a loaded machine
 * cannot make the kill land before the transfer started.
 */
async function killMidTransfer(
  cwd: string,
  args: string[],
  bytesIn: () => Promise<number>,
): Promise<void> {
  const before = await bytesIn();
  const child = spawn("git", args, { cwd, detached: true, stdio: "ignore" });
  let done = false;
  const exited = new Promise<void>((r) =>
    child.once("exit", () => {
      done = true;
      r();
    }),
  );
  const deadline = Date.now() + 120_000;
  while (!done && Date.now() < deadline && (await bytesIn()) <= before) {
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {}
  await exited;
}

describe("load: concurrent clients and clients killed mid-transfer", { timeout: 900_000 }, () => {
  let root: string;
  let serverRepo: string;
  let server: RunningP2pHttp;
  const clients: string[] = [];
  let killer: string;

  before(async () => {
    root = await makeTempDir();
    serverRepo = await gitAnnexRepo(join(root, "srv"), "served");
    const g = (...a: string[]) => run("git", a, { cwd: serverRepo });
    for (let i = 0; i < 50; i++) {
      // mostly small files, a few of several MiB
      const size = i % 10 === 0 ? 4 * 1024 * 1024 + i : 20_000 + i * 997;
      await writeFile(join(serverRepo, `f${String(i).padStart(2, "0")}`), randomBytes(size));
    }
    await writeFile(join(serverRepo, "big"), randomBytes(96 * 1024 * 1024));
    await g("annex", "add", "--quiet", ".");
    await g("commit", "-q", "-m", "files");
    await g("config", "receive.denyCurrentBranch", "updateInstead");
    server = await startAnnexgate(serverRepo, ["--wideopen", "--jobs", "8"]);
    for (let i = 0; i < 4; i++) {
      clients.push(await annexHttpClone(serverRepo, join(root, `c${i}`), server.port, `c${i}`));
    }
    killer = await annexHttpClone(serverRepo, join(root, "killer"), server.port, "killer");
  });

  after(async () => {
    await server?.stop();
    if (root) await removeDir(root);
  });

  test("4 clients loop get/drop -J4 over 50 files while another is killed mid-transfer", async () => {
    const durations: number[] = [];
    const loops = clients.map(async (c) => {
      for (let round = 0; round < ROUNDS; round++) {
        durations.push(await timedGit(c, ["annex", "get", "-J4", "--from", "origin", "--", "."]));
        durations.push(await timedGit(c, ["annex", "drop", "-J4", "--", "."]));
      }
    });
    let partialGets = 0;
    let partialPuts = 0;
    const tmpBytes = async (dir: string) => {
      const names = await readdir(dir).catch(() => [] as string[]);
      let total = 0;
      for (const n of names) total += (await stat(join(dir, n)).catch(() => ({ size: 0 }))).size;
      return total;
    };
    const kills = (async () => {
      for (let i = 0; i < KILLS; i++) {
        const killerTmp = () => tmpBytes(join(killer, ".git", "annex", "tmp"));
        await killMidTransfer(killer, ["annex", "get", "--from", "origin", "big"], killerTmp);
        if ((await killerTmp()) > 0) partialGets++;
      }
      // the interrupted download resumes and completes
      durations.push(await timedGit(killer, ["annex", "get", "--from", "origin", "big"]));
      // uploads killed part way, then one that completes
      const name = "upload";
      await writeFile(join(killer, name), randomBytes(64 * 1024 * 1024));
      await timedGit(killer, ["annex", "add", "--quiet", name]);
      await timedGit(killer, ["commit", "-q", "-m", name]);
      for (let i = 0; i < KILLS; i++) {
        const serverTmp = () => tmpBytes(join(serverRepo, ".git", "annex", "tmp"));
        await killMidTransfer(killer, ["annex", "copy", "--to", "origin", name], serverTmp);
        if ((await serverTmp()) > 0) partialPuts++;
      }
      durations.push(await timedGit(killer, ["annex", "copy", "--to", "origin", name]));
    })();
    await Promise.all([...loops, kills]);
    assert.equal(durations.length, 4 * ROUNDS * 2 + 2);
    assert.ok(partialGets > 0, "some killed downloads stopped part way");
    assert.ok(partialPuts > 0, "some killed uploads stopped part way");
    const slowest = Math.max(...durations);
    assert.ok(slowest < OP_BOUND_MS, `slowest operation ${slowest} ms`);

    // Every client got everything in its last get (then dropped it again);
    // the killer has the big file, verified by git-annex as it arrived.
    const whereis = JSON.parse(
      (await run("git", ["annex", "whereis", "--json", "big"], { cwd: killer })).trim(),
    ) as { whereis: { description: string }[] };
    assert.ok(whereis.whereis.some((w) => w.description.includes("killer")));
    // nothing left half-done on either side
    const clientTmp = await readdir(join(killer, ".git", "annex", "tmp")).catch(() => []);
    assert.deepEqual(clientTmp, [], "client temp files were resumed into place");
    const serverTmp = await readdir(join(serverRepo, ".git", "annex", "tmp")).catch(() => []);
    assert.deepEqual(serverTmp, [], "server temp files were resumed into place");
    const fsck = await run("git", ["annex", "fsck", "--quiet", "--in=here", "--all"], {
      cwd: serverRepo,
    });
    assert.equal(
      fsck
        .trim()
        .replace(/^\(recording state in git\.\.\.\)$/m, "")
        .trim(),
      "",
    );
    assert.equal(server.child.exitCode, null, "server still running");
  });
});
