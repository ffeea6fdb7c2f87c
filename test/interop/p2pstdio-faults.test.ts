/**
 * Fault injection on the line protocol: `annexgate shell p2pstdio` run as
 * ssh runs it (a child process on pipes), in front of the repository
 * itself, a proxied node, and a cluster of a local, an ssh (stock
 * git-annex-shell behind a real sshd) and a p2phttp node (stock `git annex
 * p2phttp`). Each request is cut off at each phase it has, by closing
 * stdin (a clean end) or by destroying both pipes (the SIGPIPE side); then
 * the process must exit within a deadline, no content lock may be left,
 * the next honest request of the same kind (a fresh session) must succeed
 * at once, and no repository may hold an object that is not the key's
 * content, nor a location log name a copy that is not there.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FcntlLocks } from "../../src/locks/index.js";
import { addNodes, gatewayRepo, holdsVerified, initCluster, uuidOf } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex, run } from "../helpers/index.js";
import {
  type Content,
  cutOff,
  type FaultRow,
  faultRows,
  honest,
  REQUESTS,
  type Request,
  type RowKeys,
} from "../helpers/p2pstdio-faults.js";
import { ShellSession } from "../helpers/p2pstdio-session.js";
import { type RunningP2pHttp, startStockP2pHttp } from "../helpers/servers.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const CLIENT = "11111111-2222-3333-4444-555555555555";
const NODES = ["node1", "node2", "node3"] as const;

const REPOS = ["gw", ...NODES] as const;
/** Requests cut off at once, each on keys of its own. */
const PARALLEL = 3;

interface Target {
  readonly name: string;
  /** --uuid, or none for the repository itself. */
  readonly uuid: () => string | undefined;
}

function content(size: number): Content {
  const bytes = randomBytes(size);
  const hash = createHash("sha256").update(bytes).digest("hex");
  return { key: `SHA256E-s${size}--${hash}.bin`, bytes };
}

describe("p2pstdio sessions cut off at every phase", { timeout: 600_000 }, () => {
  let root = "";
  let gw = "";
  let sshd: TestSshd;
  let httpNode: RunningP2pHttp;
  let clusterUuid = "";
  let nodeUuid = "";
  let env: NodeJS.ProcessEnv = {};

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-p2pstdio-faults-");
    for (const n of NODES) await gitAnnexRepo(join(root, n), n);
    sshd = await startSshd("stock");
    httpNode = await startStockP2pHttp(join(root, "node3"), ["--wideopen"]);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    await addNodes(gw, "mycluster", [
      { name: "node1", url: join(root, "node1") },
      {
        name: "node2",
        url: `${sshd.host}:${join(root, "node2")}`,
        uuid: await uuidOf(join(root, "node2")),
      },
      {
        name: "node3",
        url: join(root, "node3"),
        annexUrl: `annex+http://127.0.0.1:${httpNode.port}/git-annex/`,
        uuid: await uuidOf(join(root, "node3")),
      },
    ]);
    await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: gw });
    clusterUuid = await initCluster("annexgate", gw, "mycluster", sshd.clientEnv());
    env = sshd.clientEnv();
    // node1 is also proxied on its own (besides being a cluster node).
    await run("git", ["config", "remote.node1.annex-proxy", "true"], { cwd: gw });
    await run("git", ["annex", "updateproxy"], { cwd: gw, env: sshd.clientEnv() });
    nodeUuid = await uuidOf(join(root, "node1"));
  });

  after(async () => {
    await ShellSession.killAll();
    await httpNode?.stop();
    await sshd?.stop();
    if (root) await removeDir(root);
  });

  /** The repositories that hold a verified copy of `key`. */
  async function holders(key: string): Promise<string[]> {
    const out: string[] = [];
    for (const n of [...NODES, "gw"]) if (await holdsVerified(join(root, n), key)) out.push(n);
    return out;
  }

  test("INVALID after DATA through the cluster is answered, and nothing is stored", async () => {
    const c = content(4096);
    const s = new ShellSession(gw, CLIENT, clusterUuid, env);
    await s.handshake();
    s.write(`PUT f.bin ${c.key}\n`);
    assert.equal(await s.line(), "PUT-FROM 0");
    s.write(
      Buffer.concat([Buffer.from(`DATA ${c.bytes.length}\n`), c.bytes, Buffer.from("INVALID\n")]),
    );
    assert.match(await s.line(), /^FAILURE/);
    s.closeInput();
    assert.equal((await s.exitWithin()).code, 0, s.stderr());
    assert.deepEqual(await holders(c.key), []);
  });

  const locks = new FcntlLocks();
  after(() => locks.close());
  const objectPaths = new Map<string, string>();

  /** Where `key`'s object is in a (non-bare) repository, below .git/annex/objects. */
  async function objectPath(repo: string, key: string): Promise<string> {
    let rel = objectPaths.get(key);
    if (rel === undefined) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: git-annex's format, not a template.
      const format = "${hashdirmixed}${key}/${key}";
      rel = (
        await run("git", ["annex", "examinekey", `--format=${format}`, key], { cwd: gw })
      ).trim();
      objectPaths.set(key, rel);
    }
    return join(root, repo, ".git", "annex", "objects", rel);
  }

  /** No process holds a content lock on `key` in any repository: the same fcntl lock is free. */
  async function assertUnlocked(key: string, what: string): Promise<void> {
    for (const repo of REPOS) {
      const lck = `${await objectPath(repo, key)}.lck`;
      // No lock file, no lock: a holder keeps the file open (and there).
      if (
        !(await access(lck).then(
          () => true,
          () => false,
        ))
      )
        continue;
      const lock = await locks.tryLock(lck, "exclusive");
      assert.ok(lock !== null, `${what}: a content lock on ${key} remains in ${repo}`);
      await lock.release();
    }
  }

  /**
   * Every object of `key` is the key's content, and every repository a
   * location log (the gateway's, each node's own) names holds it.
   */
  async function assertConsistent(key: string, what: string): Promise<void> {
    const uuids = new Map<string, string>();
    for (const repo of REPOS) uuids.set(await uuidOf(join(root, repo)), repo);
    for (const repo of REPOS) {
      const path = await objectPath(repo, key);
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      const verified = await holdsVerified(join(root, repo), key);
      assert.equal(
        exists,
        verified,
        `${what}: ${repo} holds an object of ${key} that is not its content`,
      );
      for (const logged of await loggedIn(repo, key)) {
        const holder = uuids.get(logged);
        if (holder === undefined) continue;
        assert.ok(
          await holdsVerified(join(root, holder), key),
          `${what}: ${repo}'s location log says ${holder} has ${key}, which it does not`,
        );
      }
    }
  }

  async function loggedIn(repo: string, key: string): Promise<string[]> {
    const out = await run("git", ["annex", "whereis", "--json", "--key", key], {
      cwd: join(root, repo),
    }).catch(() => "");
    if (out.trim() === "") return [];
    const parsed = JSON.parse(out) as { whereis?: { uuid: string }[] };
    return (parsed.whereis ?? []).map((w) => w.uuid);
  }

  function open(target: Target): ShellSession {
    return new ShellSession(gw, CLIENT, target.uuid(), env);
  }

  /** One row: an honest exchange first (the row before left nothing held), then the cut-off. */
  async function runRow(target: Target, row: FaultRow, keys: RowKeys): Promise<void> {
    const what = `${target.name} ${row.request} ${row.phase} ${row.cut}`;
    const s = open(target);
    if (row.phase !== "lookup") {
      await s.handshake();
      await honest(s, row.request, keys);
    }
    await cutOff(s, row, keys);
    const exit = await s.exitWithin();
    assert.equal(exit.signal, null, `${what}: ${s.stderr()}`);
    if (row.cut === "close") assert.equal(exit.code, 0, `${what}: ${s.stderr()}`);
    assert.doesNotMatch(s.stderr(), /\n\s+at /, `${what}: a stack trace`);
    await assertUnlocked(keys.present.key, what);
    await assertUnlocked(keys.upload.key, what);
  }

  /** Every row of one request, then a last honest session and the repositories' state. */
  async function runRequest(target: Target, request: Request, keys: RowKeys): Promise<number> {
    const rows = faultRows(request);
    for (const row of rows) await runRow(target, row, keys);
    const s = open(target);
    await s.handshake();
    await honest(s, request, keys);
    s.closeInput();
    assert.equal((await s.exitWithin()).code, 0, s.stderr());
    const what = `${target.name} ${request}`;
    await assertConsistent(keys.present.key, what);
    await assertConsistent(keys.upload.key, what);
    return rows.length;
  }

  /** Keys for each request on `target`; the present ones are stored there first. */
  async function keysFor(target: Target): Promise<Map<Request, RowKeys>> {
    const out = new Map<Request, RowKeys>();
    for (const r of REQUESTS) {
      out.set(r, {
        // A key per request: requests run side by side, and one request's
        // lock (LOCKCONTENT held, a GET reading) is not another's leak.
        // GET's is large enough to be cut off mid-response.
        present: content(r === "GET" ? 1024 * 1024 : 64 * 1024),
        upload: content(512 * 1024),
        locksUnsupported: target.name === "cluster",
      });
    }
    const s = open(target);
    await s.handshake();
    const present = new Set([...out.values()].map((k) => k.present));
    for (const c of present) {
      s.write(`PUT f.bin ${c.key}\n`);
      assert.match(await s.line(), /^PUT-FROM 0$/);
      s.write(
        Buffer.concat([Buffer.from(`DATA ${c.bytes.length}\n`), c.bytes, Buffer.from("VALID\n")]),
      );
      assert.match(await s.line(), /^SUCCESS/);
    }
    s.closeInput();
    await s.exitWithin();
    return out;
  }

  const targets: Target[] = [
    { name: "repository", uuid: () => undefined },
    { name: "proxied node", uuid: () => nodeUuid },
    { name: "cluster", uuid: () => clusterUuid },
  ];
  for (const target of targets) {
    test(`${target.name}: every request cut off at every phase`, async () => {
      const keys = await keysFor(target);
      const queue = [...REQUESTS];
      let rows = 0;
      const worker = async () => {
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
          const n = await runRequest(target, r, keys.get(r) as RowKeys);
          rows += n;
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      assert.equal(rows, REQUESTS.flatMap(faultRows).length);
    });
  }
});
