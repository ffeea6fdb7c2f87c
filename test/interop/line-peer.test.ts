/**
 * LinePeer beyond the conformance suite: the handshake as git-annex's client
 * does it (VERSION after AUTH-SUCCESS, BYPASS on its own connections, the
 * version a server answers), the bounded connection pool (reuse, bounds,
 * locks apart, dead children replaced), aborts, and the server's ERRORs.
 * Real stock git-annex-shell where it matters; a small scripted server
 * where the test must see the lines sent.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { formatKey, genUuid } from "../../src/keys/index.js";
import { sample } from "../../src/peers/conformance.js";
import { gitAnnexShellCommand, LinePeer, PeerError } from "../../src/peers/index.js";
import { holdsVerified, localCluster } from "../helpers/cluster.js";
import { gitAnnexRepo, makeTempDir, removeDir, run, tmpBytes, waitFor } from "../helpers/index.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("gitAnnexShellCommand", () => {
  it("runs git-annex-shell locally with the arguments git-annex passes", () => {
    assert.deepEqual(gitAnnexShellCommand({ dir: "/srv/a", clientUuid: "c", uuid: "u" }), {
      command: "git-annex-shell",
      args: ["p2pstdio", "/srv/a", "c", "--uuid", "u"],
    });
  });
  it("quotes the remote command for ssh as git-annex does", () => {
    const spec = gitAnnexShellCommand({
      host: "me@gw",
      sshOptions: ["-p", "2222"],
      dir: "/srv/it's here",
      clientUuid: "c",
    });
    assert.equal(spec.command, "ssh");
    assert.deepEqual(spec.args, [
      "-p",
      "2222",
      "me@gw",
      "-T",
      `git-annex-shell 'p2pstdio' '/srv/it'"'"'s here' 'c'`,
    ]);
  });
});

describe("LinePeer against stock git-annex-shell", () => {
  let dir = "";
  let uuid = "";
  let spawnLog = "";
  const clientUuid = genUuid();

  /** A LinePeer whose every spawned git-annex-shell notes its pid in spawnLog. */
  function peer(opts: { maxConnections?: number; env?: NodeJS.ProcessEnv } = {}): LinePeer {
    const shell = gitAnnexShellCommand({ dir, clientUuid, uuid });
    return new LinePeer({
      command: "sh",
      args: ["-c", 'echo $$ >> "$0"; exec git-annex-shell "$@"', spawnLog, ...shell.args],
      uuid,
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
    });
  }
  async function spawned(): Promise<number[]> {
    const text = await readFile(spawnLog, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map(Number);
  }

  before(async () => {
    dir = await makeTempDir("annexgate-linepeer-pool-");
    await gitAnnexRepo(join(dir, "repo"), "pool");
    uuid = (await run("git", ["config", "annex.uuid"], { cwd: join(dir, "repo") })).trim();
    spawnLog = join(dir, "spawns.log");
    dir = join(dir, "repo");
  });
  after(async () => {
    await removeDir(join(dir, ".."));
  });

  it("reuses one connection for requests made one after another", async () => {
    await writeFile(spawnLog, "");
    const p = peer();
    const s = sample(5000);
    assert.equal(
      (await p.store({ key: s.key, offset: 0, length: 5000, data: Readable.from([s.data]) }))
        .stored,
      true,
    );
    for (let i = 0; i < 10; i++) assert.equal((await p.checkPresent(s.key)).present, true);
    assert.equal((await p.retrieve(s.key, 0))?.length, 5000);
    await p.close();
    assert.equal((await spawned()).length, 1);
  });

  it("never runs more connections than maxConnections, however many requests wait", async () => {
    await writeFile(spawnLog, "");
    const p = peer({ maxConnections: 2 });
    const s = sample(100_000);
    await p.store({ key: s.key, offset: 0, length: s.data.length, data: Readable.from([s.data]) });
    let most = 0;
    const work = Array.from({ length: 12 }, async (_, i) => {
      if (i % 2 === 0) return (await p.checkPresent(s.key)).present;
      const got = await p.retrieve(s.key, i);
      most = Math.max(most, p.connections);
      const parts: Buffer[] = [];
      for await (const c of got?.data ?? []) parts.push(c as Buffer);
      return Buffer.concat(parts).equals(s.data.subarray(i)) && (await got?.valid) === true;
    });
    assert.deepEqual(
      await Promise.all(work),
      work.map(() => true),
    );
    await p.close();
    assert.ok(most <= 2, `${most} connections at once`);
    assert.ok((await spawned()).length <= 2, `${(await spawned()).length} spawned`);
  });

  it("holds a lock on a connection of its own; requests go on beside it", async () => {
    await writeFile(spawnLog, "");
    const p = peer({ maxConnections: 1 });
    const s = sample(2000);
    await p.store({ key: s.key, offset: 0, length: 2000, data: Readable.from([s.data]) });
    const locked = await p.lockContent(s.key);
    assert.equal(locked.kind, "locked");
    const lock = locked.lock;
    assert.equal((await p.checkPresent(s.key)).present, true);
    // Stock git-annex-shell answers a REMOVE of locked content by exiting
    // ("content is locked"): an error here, as for git-annex's own client.
    const removed = await p.remove(s.key).then(
      (r) => r.removed,
      (e: unknown) => (e instanceof PeerError ? "refused" : e),
    );
    assert.ok(removed === false || removed === "refused", String(removed));
    assert.equal((await p.checkPresent(s.key)).present, true);
    await lock.release();
    assert.equal((await p.remove(s.key)).removed, true);
    await p.close();
    assert.ok((await spawned()).length >= 2);
  });

  it("replaces a connection whose process died while idle", async () => {
    await writeFile(spawnLog, "");
    const p = peer();
    const t1 = await p.getTimestamp();
    const [pid] = await spawned();
    assert.ok(pid);
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 50 && p.connections > 0; i++) await sleep(20);
    const t2 = await p.getTimestamp();
    assert.ok(t2 >= t1);
    assert.equal((await spawned()).length, 2);
    await p.close();
  });

  it("an abort breaks off a store (the connection is closed), and the peer goes on", async () => {
    await writeFile(spawnLog, "");
    const p = peer();
    const s = sample(300_000);
    const aborter = new AbortController();
    let sent = false;
    const slow = new Readable({
      read() {
        if (sent) return; // then stall
        sent = true;
        this.push(s.data.subarray(0, 100_000));
        // The client goes away once the node has written bytes to its
        // temp file (an event, waited for with a bound).
        void waitFor(
          "the node to write part of the upload",
          async () => (await tmpBytes(dir)) > 0,
        ).then(
          () => aborter.abort(new Error("client went away")),
          (e: unknown) => aborter.abort(e),
        );
      },
    });
    await assert.rejects(
      p.store(
        { key: s.key, offset: 0, length: s.data.length, data: slow },
        { signal: aborter.signal },
      ),
      PeerError,
    );
    assert.equal((await p.checkPresent(s.key)).present, false);
    const po = await p.putOffset(s.key);
    assert.ok(!po.alreadyHave && po.offset > 0 && po.offset <= 100_000, JSON.stringify(po));
    assert.equal((await spawned()).length, 2);
    await p.close();
  });

  it("an ERROR from the server is a PeerError with its text (a read-only git-annex-shell)", async () => {
    const p = peer({ env: { ...process.env, GIT_ANNEX_SHELL_READONLY: "1" } });
    const s = sample(1000);
    await assert.rejects(
      p.store({ key: s.key, offset: 0, length: 1000, data: Readable.from([s.data]) }),
      (e: unknown) => e instanceof PeerError && /read-only/.test(e.message),
    );
    assert.equal((await p.checkPresent(s.key)).present, false);
    await p.close();
  });

  it("refuses a server with another UUID", async () => {
    const p = new LinePeer({ ...gitAnnexShellCommand({ dir, clientUuid }), uuid: genUuid() });
    await assert.rejects(
      p.getTimestamp(),
      (e: unknown) => e instanceof PeerError && /not/.test(e.message),
    );
    assert.equal(p.connections, 0);
    await p.close();
  });

  it("fails with the child's stderr when the command cannot run", async () => {
    const p = new LinePeer({
      ...gitAnnexShellCommand({ dir: join(dir, "nowhere"), clientUuid }),
      uuid,
    });
    await assert.rejects(p.getTimestamp(), (e: unknown) => {
      return e instanceof PeerError && String(e.data.stderr ?? "").length > 0;
    });
    await p.close();
  });
});

/**
 * A scripted p2pstdio server: says AUTH-SUCCESS, writes every line it gets
 * to a log (with a START line per process), answers VERSION with
 * min(offered, MAXV) (or ERROR when MAXV is "none"), and a few requests.
 */
const FAKE_SERVER = `
const fs = require("node:fs");
const readline = require("node:readline");
const [log, uuid, maxv] = process.argv.slice(2);
fs.appendFileSync(log, "START\\n");
process.stdout.write("AUTH-SUCCESS " + uuid + "\\n");
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  fs.appendFileSync(log, line + "\\n");
  const [cmd, arg] = line.split(" ");
  if (cmd === "VERSION") {
    process.stdout.write(maxv === "none" ? "ERROR unknown command\\n" : "VERSION " + Math.min(Number(arg), Number(maxv)) + "\\n");
  } else if (cmd === "CHECKPRESENT") process.stdout.write("SUCCESS\\n");
  else if (cmd === "GETTIMESTAMP") process.stdout.write("TIMESTAMP 42\\n");
  else if (cmd === "REMOVE") process.stdout.write("SUCCESS-PLUS " + uuid + "\\n");
  else if (cmd !== "BYPASS") process.stdout.write("ERROR unexpected command\\n");
});
`;

describe("LinePeer handshake (scripted server)", () => {
  let dir = "";
  let script = "";
  const uuid = genUuid();
  const key = sample(10).key;

  before(async () => {
    dir = await makeTempDir("annexgate-linepeer-fake-");
    script = join(dir, "server.cjs");
    await writeFile(script, FAKE_SERVER);
  });
  after(async () => {
    await removeDir(dir);
  });

  async function session(maxv: string, act: (p: LinePeer) => Promise<void>): Promise<string[]> {
    const log = join(dir, `log-${maxv}-${Math.random()}`);
    const p = new LinePeer({ command: process.execPath, args: [script, log, uuid, maxv], uuid });
    try {
      await act(p);
    } finally {
      await p.close();
    }
    return (await readFile(log, "utf8")).split("\n").filter((l) => l !== "");
  }

  it("sends VERSION 4 first, then BYPASS on connections of their own", async () => {
    const lines = await session("4", async (p) => {
      await p.checkPresent(key);
      await p.checkPresent(key, { bypass: ["b2", "b1"] });
      await p.checkPresent(key, { bypass: ["b1", "b2"] });
      await p.checkPresent(key);
    });
    const check = `CHECKPRESENT ${formatKey(key)}`;
    // One log for both processes, written in the order the requests ran.
    assert.deepEqual(lines, [
      "START",
      "VERSION 4",
      check,
      "START",
      "VERSION 4",
      "BYPASS b2 b1", // as the first caller gave it; reused for the same set
      check,
      check,
      check,
    ]);
  });

  it("takes the version the server answers; what it lacks is refused before sending", async () => {
    const lines = await session("2", async (p) => {
      await assert.rejects(p.remove(key, { before: 100 }), (e: unknown) => {
        return e instanceof PeerError && e.data.unsupported === true && e.data.version === 2;
      });
      await assert.rejects(p.storePresent(key), PeerError);
      assert.deepEqual(await p.remove(key), { removed: true, plusUuids: [uuid] });
      assert.equal(await p.getTimestamp(), 42);
    });
    // One connection throughout: the refusals did not cost it.
    assert.equal(lines.filter((l) => l === "START").length, 1);
    assert.ok(!lines.some((l) => l.startsWith("REMOVE-BEFORE") || l.startsWith("PUT")));
  });

  it("treats ERROR in answer to VERSION as a server from before VERSION (v0, no BYPASS)", async () => {
    const lines = await session("none", async (p) => {
      assert.equal((await p.checkPresent(key, { bypass: ["b1"] })).present, true);
      await assert.rejects(p.remove(key, { before: 100 }, { bypass: ["b1"] }), PeerError);
    });
    assert.deepEqual(lines, ["START", "VERSION 4", `CHECKPRESENT ${formatKey(key)}`]);
  });
});

describe("LinePeer to a cluster behind stock git-annex-shell", { timeout: 300_000 }, () => {
  let root: string;
  let gw: string;
  let cluster: string;
  const clientUuid = genUuid();

  before(async () => {
    root = await makeTempDir("annexgate-linepeer-cluster-");
    ({ gw, cluster } = await localCluster(root, ["node1", "node2"], "stock"));
  });
  after(async () => {
    await removeDir(root);
  });

  const peer = () =>
    new LinePeer({
      ...gitAnnexShellCommand({ dir: gw, clientUuid, uuid: cluster }),
      uuid: cluster,
    });

  it("stores to every node, and REMOVE-BEFORE with a timestamp from another connection works", async () => {
    const s = sample(50_000);
    const a = peer();
    const stored = await a.store({
      key: s.key,
      offset: 0,
      length: s.data.length,
      data: Readable.from([s.data]),
    });
    assert.equal(stored.stored, true);
    assert.equal(stored.plusUuids.length, 2);
    for (const n of ["node1", "node2"]) {
      assert.equal(await holdsVerified(join(root, n), formatKey(s.key)), true, n);
    }
    const now = await a.getTimestamp();
    await a.close();
    // A fresh peer, so a fresh connection: the gateway has not answered a
    // GETTIMESTAMP on it before the REMOVE-BEFORE.
    const b = peer();
    try {
      assert.equal((await b.remove(s.key, { before: now - 10 })).removed, false);
      const r = await b.remove(s.key, { before: now + 600 });
      assert.equal(r.removed, true);
      assert.equal(r.plusUuids.length, 2);
    } finally {
      await b.close();
    }
    for (const n of ["node1", "node2"]) {
      assert.equal(await holdsVerified(join(root, n), formatKey(s.key)), false, n);
    }
  });
});
