/**
 * Concurrent uploads through separate ssh logins never overfill a node:
 * each login is its own annexgate process (git-annex-shell p2pstdio), and
 * stock `git annex copy -J8` opens one per job. The cluster's one node has
 * room for exactly four of the eight files; exactly four are stored, the
 * others are refused cleanly, and stock fsck and whereis agree with what
 * is on disk. The client is not told the maximum size, so every refusal
 * is the gateway's.
 */
import assert from "node:assert/strict";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { holdsVerified, keyOf, localCluster } from "../helpers/cluster.js";
import {
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  runOutcome,
  writeRandomFile,
} from "../helpers/index.js";
import { clientGitConfig, startSshd, type TestSshd } from "../helpers/sshd.js";

const SIZE = 200_000;
const ROOM = 4 * SIZE + SIZE / 2;
const FILES = Array.from({ length: 8 }, (_, i) => `big${i}.dat`);

/** Runs a command to its end, failing or not: its exit code and output. */
function runAll(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  return runOutcome(cmd, args, { cwd, env }).then((r) => ({
    code: r.code,
    out: `${r.stdout}\n${r.stderr}`,
  }));
}

/** Bytes of the annexed objects a repository holds. */
async function objectBytes(repo: string): Promise<number> {
  const dir = join(repo, ".git", "annex", "objects");
  let total = 0;
  for (const f of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
    const s = await stat(join(dir, f)).catch(() => null);
    if (s?.isFile()) total += s.size;
  }
  return total;
}

describe("uploads through separate ssh logins share the room on a node", {
  timeout: 600_000,
}, () => {
  let root = "";
  let gw = "";
  let node = "";
  let client = "";
  let sshd: TestSshd;
  let env: Record<string, string> = {};
  const git = (...a: string[]) => run("git", a, { cwd: client, env });

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-live-ssh-");
    ({ gw } = await localCluster(root, ["node1"], "annexgate"));
    node = join(root, "node1");
    sshd = await startSshd("annexgate");
    env = sshd.clientEnv();
    client = join(root, "client");
    await run("git", ["clone", "-q", `${sshd.host}:${gw}`, client], { env });
    for (const [k, v] of clientGitConfig) await git("config", k, v);
    await git("annex", "init", "-q", "client");
    for (const f of FILES) await writeRandomFile(join(client, f), SIZE);
    await git("annex", "add", "-q", ...FILES);
    await git("commit", "-q", "-m", "files");
    // Set on the gateway only, after the client cloned it.
    await run("git", ["annex", "maxsize", "node1", String(ROOM)], { cwd: gw });
  });
  after(async () => {
    await sshd?.stop();
    if (root !== "") await removeDir(root);
  });

  test("copy -J8 of 8 files into room for 4: exactly 4 stored, the rest refused, fsck agrees", async () => {
    const copy = await runAll(
      "git",
      ["annex", "copy", "-J8", "--to", "origin-mycluster", ...FILES],
      client,
      env,
    );
    assert.notEqual(copy.code, 0, copy.out);
    assert.match(copy.out, /copy: 4 failed/, copy.out);
    assert.doesNotMatch(copy.out, /\s at \S+ \(|node:internal|\/dist\//, copy.out);

    // The uploads went through separate logins.
    const sessions = (await sshd.logins()).filter((l) => / 'p2pstdio' .* --uuid /.test(l));
    assert.ok(sessions.length >= 2, (await sshd.logins()).join("\n"));

    // Exactly four on disk, none past the maximum size.
    const landed: string[] = [];
    for (const f of FILES) if (await holdsVerified(node, await keyOf(client, f))) landed.push(f);
    assert.equal(landed.length, 4, copy.out);
    assert.equal(await objectBytes(node), 4 * SIZE);

    // The client's location log agrees, and stock fsck finds it true.
    const inCluster = (await git("annex", "find", "--in", "origin-mycluster")).trim().split("\n");
    assert.deepEqual(inCluster.sort(), landed.sort());
    for (const f of FILES) {
      const w = await git("annex", "whereis", f);
      assert.equal(/origin-mycluster/.test(w), landed.includes(f), `${f}: ${w}`);
    }
    const fsck = await runAll(
      "git",
      ["annex", "fsck", "--fast", "--from", "origin-mycluster", ...FILES],
      client,
      env,
    );
    assert.equal(fsck.code, 0, fsck.out);
    // So do the gateway's log (written by the logins) and the node itself.
    for (const f of FILES) {
      const key = await keyOf(client, f);
      // whereis fails (exit 1) for a key with no copy: the output says which.
      const w = await runAll("git", ["annex", "whereis", "--key", key], gw, {});
      assert.equal(/node1/.test(w.out), landed.includes(f), `${f}: ${w.out}`);
      assert.equal(w.code === 0, landed.includes(f), `${f}: ${w.out}`);
    }
    const gwFsck = await runAll(
      "git",
      ["annex", "fsck", "--fast", "--from", "node1", "--all"],
      gw,
      {},
    );
    assert.equal(gwFsck.code, 0, gwFsck.out);
    const nodeFsck = await runAll("git", ["annex", "fsck", "--all"], node, {});
    assert.equal(nodeFsck.code, 0, nodeFsck.out);
  });

  test("room given back by a drop is taken by exactly one more upload", async () => {
    const landed: string[] = [];
    for (const f of FILES) if (await holdsVerified(node, await keyOf(client, f))) landed.push(f);
    await git("annex", "drop", "-q", "--from", "origin-mycluster", landed[0] as string);
    const copy = await runAll(
      "git",
      ["annex", "copy", "-J8", "--to", "origin-mycluster", ...FILES],
      client,
      env,
    );
    assert.match(copy.out, /copy: 4 failed/, copy.out);
    let now = 0;
    for (const f of FILES) if (await holdsVerified(node, await keyOf(client, f))) now++;
    assert.equal(now, 4);
    assert.equal(await objectBytes(node), 4 * SIZE);
  });
});
