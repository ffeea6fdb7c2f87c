/**
 * A stock git-annex client against `annexgate p2phttp`: copy, get, drop,
 * whereis, resumed transfers and git-annex's own `testremote`; then stock
 * git-annex, run inside the served repository while the server still runs,
 * must agree with what was stored (fsck, whereis): the branch was committed
 * in a timely way, without a restart.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  run,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import {
  annexHttpClone,
  type RunningP2pHttp,
  requestLines,
  startAnnexgate,
} from "../helpers/servers.js";

async function sizeOfDirFiles(dir: string): Promise<number> {
  try {
    let total = 0;
    for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
    return total;
  } catch {
    return 0;
  }
}

/**
 * Start a git-annex command and kill it (and its children) once `progress()`
 * reports at least `threshold` bytes. Resolves with the bytes seen at the kill.
 */
async function interruptAt(
  cwd: string,
  args: string[],
  progress: () => Promise<number>,
  threshold: number,
): Promise<number> {
  const child = spawn("git", args, { cwd, detached: true, stdio: "ignore" });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 60_000;
  let seen = 0;
  while (Date.now() < deadline && child.exitCode === null) {
    seen = await progress();
    if (seen >= threshold) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {
    // already gone
  }
  await exited;
  return seen;
}

describe("stock git-annex client against annexgate p2phttp", { timeout: 600_000 }, () => {
  let root: string;
  let serverRepo: string;
  let client: string;
  let server: RunningP2pHttp;
  const git = (...args: string[]) => run("git", args, { cwd: client });
  const gitServer = (...args: string[]) => run("git", args, { cwd: serverRepo });

  before(async () => {
    root = await makeTempDir();
    serverRepo = await gitAnnexRepo(join(root, "srv"), "served");
    await gitServer("commit", "-q", "--allow-empty", "-m", "init");
    server = await startAnnexgate(serverRepo, [
      "--wideopen",
      "--log-format",
      "json",
      "--commit-delay",
      "500",
    ]);
    client = await annexHttpClone(serverRepo, join(root, "client"), server.port);
  });

  after(async () => {
    await server?.stop();
    if (root) await removeDir(root);
  });

  test("copy --to, whereis, drop, get --from, drop --from", async () => {
    const sizes = [0, 1, 4096, 1_000_003, 5 * 1024 * 1024];
    const digests = new Map<string, string>();
    for (const [i, size] of sizes.entries()) {
      const data = randomBytes(size);
      await writeFile(join(client, `file${i}`), data);
      digests.set(`file${i}`, createHash("sha256").update(data).digest("hex"));
    }
    await git("annex", "add", "--quiet", ".");
    await git("commit", "-q", "-m", "files");
    await git("annex", "copy", "--quiet", "--to", "origin", ".");
    const whereis = JSON.parse((await git("annex", "whereis", "--json", "file2")).trim()) as {
      whereis: { uuid: string }[];
    };
    const serverUuid = (await gitServer("config", "annex.uuid")).trim();
    assert.ok(
      whereis.whereis.some((w) => w.uuid === serverUuid),
      "origin has file2",
    );

    // Really on the server's disk, under the key's object path.
    const key = (await git("annex", "lookupkey", "file4")).trim();
    const onServer = (await gitServer("annex", "contentlocation", key)).trim();
    const bytes = await readFile(join(serverRepo, onServer));
    assert.equal(createHash("sha256").update(bytes).digest("hex"), digests.get("file4"));

    await git("annex", "drop", "--quiet", ".");
    await git("annex", "get", "--quiet", "--from", "origin", ".");
    for (const [name, digest] of digests) {
      const got = await readFile(join(client, name));
      assert.equal(createHash("sha256").update(got).digest("hex"), digest, name);
    }
    await git("annex", "drop", "--quiet", "--from", "origin", "file1");
    await assert.rejects(
      gitServer("annex", "contentlocation", (await git("annex", "lookupkey", "file1")).trim()),
    );
    const after = JSON.parse((await git("annex", "whereis", "--json", "file1")).trim()) as {
      whereis: { uuid: string }[];
    };
    assert.ok(!after.whereis.some((w) => w.uuid === serverUuid), "origin no longer has file1");
  });

  test("an interrupted get resumes from where it stopped", async () => {
    const name = "big-get";
    await writeRandomFile(join(client, name), 256 * 1024 * 1024);
    await git("annex", "add", "--quiet", name);
    await git("commit", "-q", "-m", name);
    await git("annex", "copy", "--quiet", "--to", "origin", name);
    const digest = createHash("sha256")
      .update(await readFile(join(client, name)))
      .digest("hex");
    await git("annex", "drop", "--quiet", name);
    const tmpDir = join(client, ".git", "annex", "tmp");
    const seen = await interruptAt(
      client,
      ["annex", "get", "--from", "origin", name],
      () => sizeOfDirFiles(tmpDir),
      8 * 1024 * 1024,
    );
    assert.ok(seen > 0, "the get was interrupted part way");
    const partial = await sizeOfDirFiles(tmpDir);
    assert.ok(partial > 0 && partial < 256 * 1024 * 1024, `partial download kept (${partial})`);
    await git("annex", "get", "--quiet", "--from", "origin", name);
    const got = createHash("sha256")
      .update(await readFile(join(client, name)))
      .digest("hex");
    assert.equal(got, digest);
    // The resumed request asked the server for the rest only.
    const resumed = requestLines(server.stderr()).filter(
      (l) => l.endpoint === "key" && l.status === 200 && (l.offset ?? 0) > 0,
    );
    assert.equal(resumed.length, 1, server.stderr());
  });

  test("an interrupted put resumes from the server's putoffset", async () => {
    const name = "big-put";
    await writeRandomFile(join(client, name), 256 * 1024 * 1024);
    await git("annex", "add", "--quiet", name);
    await git("commit", "-q", "-m", name);
    const serverTmp = join(serverRepo, ".git", "annex", "tmp");
    await interruptAt(
      client,
      ["annex", "copy", "--to", "origin", name],
      () => sizeOfDirFiles(serverTmp),
      8 * 1024 * 1024,
    );
    const partial = await sizeOfDirFiles(serverTmp);
    assert.ok(partial > 0, "the server kept the partial upload");
    await git("annex", "copy", "--quiet", "--to", "origin", name);
    const resumed = requestLines(server.stderr()).filter(
      (l) => l.endpoint === "put" && l.status === 200 && (l.offset ?? 0) > 0,
    );
    assert.equal(resumed.length, 1, server.stderr());
    const key = (await git("annex", "lookupkey", name)).trim();
    const loc = (await gitServer("annex", "contentlocation", key)).trim();
    const a = createHash("sha256")
      .update(await readFile(join(serverRepo, loc)))
      .digest("hex");
    const b = createHash("sha256")
      .update(await readFile(join(client, name)))
      .digest("hex");
    assert.equal(a, b);
    assert.equal(await sizeOfDirFiles(serverTmp), 0, "no temp file left behind");
  });

  test("git annex testremote origin (full) passes", async () => {
    const out = await git("annex", "testremote", "origin");
    assert.match(out, /All \d+ tests passed/);
  });

  test("the served repository agrees, while the server keeps running", async () => {
    // Commits happen within the commit delay; give them a moment.
    const files = ["file0", "file1", "file2", "file3", "file4", "big-put"];
    const serverUuid = (await gitServer("config", "annex.uuid")).trim();
    const expect = new Map<string, boolean>();
    for (const f of files) {
      const w = JSON.parse((await git("annex", "whereis", "--json", f)).trim()) as {
        whereis: { uuid: string }[];
      };
      expect.set(
        f,
        w.whereis.some((x) => x.uuid === serverUuid),
      );
    }
    assert.equal(expect.get("file1"), false);
    assert.equal(expect.get("file2"), true);
    // The branch ref itself (not just the journal) carries what was
    // stored: the server commits its journal within a second of a change.
    await waitFor("the server to commit its journal to the git-annex branch", async () => {
      const journal = await readdir(join(serverRepo, ".git", "annex", "journal")).catch(() => []);
      return journal.length === 0;
    });
    await gitServer("fetch", "-q", client, "main:refs/remotes/client/main").catch(() =>
      gitServer("fetch", "-q", client, "master:refs/remotes/client/main"),
    );
    for (const f of files) {
      const key = (await git("annex", "lookupkey", f)).trim();
      // whereis exits 1 for a key with no known copy; that answers "not here".
      const out = await gitServer("annex", "whereis", "--json", "--key", key).catch(
        () => '{"whereis":[]}',
      );
      const w = JSON.parse(out.trim()) as { whereis: { uuid: string }[] };
      assert.equal(
        w.whereis.some((x) => x.uuid === serverUuid),
        expect.get(f),
        `whereis ${f}`,
      );
    }
    // fsck verifies every object stored here against its key (testremote's
    // leftover keys, with no copy anywhere, are out of scope for --all).
    const fsck = await gitServer("annex", "fsck", "--all", "--in=here", "--json");
    const checked = fsck
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { success: boolean; key: string });
    assert.ok(checked.length >= 4, `fsck checked ${checked.length} objects`);
    for (const c of checked) assert.equal(c.success, true, `fsck ${c.key}`);
    assert.equal(server.child.exitCode, null, "server still running");
  });
});
