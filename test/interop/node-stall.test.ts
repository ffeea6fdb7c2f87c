/**
 * A node that stalls mid-transfer (its stock git-annex process stopped
 * with SIGSTOP: alive, connected, silent) must not hold a client's
 * transfer, nor its slot, for ever. Nodes are reached over p2phttp (stock
 * `git annex p2phttp`) and over ssh (stock git-annex-shell behind a real
 * sshd), as proxied nodes and as cluster nodes; the gateway is annexgate's
 * p2phttp server, in this process so the test can read its stats(), with
 * a short no-progress timeout for its nodes.
 *
 * After the stall the client's request is answered, the server's counts
 * are back to where they were, and once the node is resumed the same
 * request succeeds.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { type RunningServer, startP2pHttp } from "../../src/cli/p2phttp.js";
import { parseKey } from "../../src/keys/index.js";
import { HttpPeer } from "../../src/peers/index.js";
import type { ServerStats } from "../../src/server/index.js";
import {
  addNodes,
  configCommand,
  gatewayRepo,
  holdsVerified,
  initCluster,
  uuidOf,
} from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  tmpBytes,
  waitFor,
} from "../helpers/index.js";
import { QUIET, type RunningP2pHttp, startStockP2pHttp } from "../helpers/servers.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";

const CLIENT = "b1e4f1b2-1111-4222-8333-444455556666";
/**
 * Larger than a chunk: the last chunk is held back until the node is
 * stopped, so the stall is met either mid-body or waiting for the answer.
 */
const SIZE = 48 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/**
 * The gateway's no-progress timeout for its nodes: short, since a stopped
 * node never moves (each case waits this long once), but long enough that
 * a stock node (or an ssh login, a fraction of a second now that the test
 * sshd's logins skip the login shell's rc file) on a loaded machine is
 * never taken for a stalled one.
 */
const STALL_MS = 6_000;

/** The pids of stock git-annex processes whose command line has every one of `parts`. */
async function gitAnnexPids(program: string, parts: readonly string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0)))
      .toString("utf8")
      .split("\0");
    if (basename(argv[0] ?? "") !== program) continue;
    if (parts.every((p) => argv.some((a) => a.includes(p)))) pids.push(Number(pid));
  }
  return pids;
}

/** A node the test can stop and resume. */
interface StallableNode {
  readonly name: string;
  readonly repo: string;
  /** The processes serving it now (found when it is to be stopped). */
  pids(): Promise<number[]>;
}

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // Gone already: nothing to stop or resume.
    }
  }
}

function keyFor(data: Buffer): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}.bin`;
}

/** `data` in chunks; with `lastAfter`, the last chunk waits for it (so the upload cannot finish first). */
function chunks(data: Buffer, lastAfter?: Promise<unknown>): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < data.length; i += CHUNK) {
        if (i + CHUNK >= data.length) await lastAfter;
        yield data.subarray(i, i + CHUNK);
      }
    })(),
  );
}

describe("a node that stalls mid-transfer behind annexgate", { timeout: 900_000 }, () => {
  let root: string;
  let sshd: TestSshd;
  let httpNodes: RunningP2pHttp[] = [];
  let server: RunningServer;
  let base = "";
  let cluster = "";
  let baseline: ServerStats;
  const stopped = new Set<number>();
  const savedEnv = { ...process.env };
  const nodes = new Map<string, StallableNode>();

  // A client that never continues a download: the break-off is what is tested.
  const client = (uuid: string) =>
    new HttpPeer({ url: `${base}/`, uuid, clientUuid: CLIENT, downloadContinuations: 0 });

  const httpNode = (name: string, repo: string, port: number): StallableNode => ({
    name,
    repo,
    pids: () => gitAnnexPids("git-annex", ["p2phttp", String(port)]),
  });
  const sshNode = (name: string, repo: string): StallableNode => ({
    name,
    repo,
    pids: () => gitAnnexPids("git-annex-shell", ["p2pstdio", repo]),
  });

  const stop = async (n: StallableNode) => {
    const pids = await n.pids();
    assert.ok(pids.length > 0, `${n.name} is being served`);
    for (const p of pids) stopped.add(p);
    signal(pids, "SIGSTOP");
    return pids;
  };
  const resume = (pids: readonly number[]) => {
    signal(pids, "SIGCONT");
    for (const p of pids) stopped.delete(p);
  };

  const backToBaseline = async (what: string) => {
    let last = server.p2p.stats();
    await waitFor(`${what}: the server's counts back at their baseline`, async () => {
      last = server.p2p.stats();
      return (
        last.requests === baseline.requests &&
        last.transferSlots === baseline.transferSlots &&
        last.queuedTransfers === baseline.queuedTransfers &&
        last.keyLocks === baseline.keyLocks
      );
    }).catch(() => assert.fail(`${what}: ${JSON.stringify(last)} vs ${JSON.stringify(baseline)}`));
  };

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-node-stall-");
    for (const n of ["phttp", "pssh", "clocal", "chttp", "cssh"]) {
      await gitAnnexRepo(join(root, n), n);
    }
    sshd = await startSshd("stock");
    const phttp = await startStockP2pHttp(join(root, "phttp"), ["--wideopen"]);
    const chttp = await startStockP2pHttp(join(root, "chttp"), ["--wideopen"]);
    httpNodes = [phttp, chttp];
    const gw = await gatewayRepo(join(root, "gw"), "gateway");
    const git = (...a: string[]) => run("git", a, { cwd: gw });
    const annexUrl = (p: RunningP2pHttp) => `annex+http://127.0.0.1:${p.port}/git-annex/`;
    await git("remote", "add", "phttp", join(root, "phttp"));
    await git("config", "remote.phttp.annexurl", annexUrl(phttp));
    await git("config", "remote.phttp.annex-uuid", await uuidOf(join(root, "phttp")));
    await git("remote", "add", "pssh", `${sshd.host}:${join(root, "pssh")}`);
    await git("config", "remote.pssh.annex-uuid", await uuidOf(join(root, "pssh")));
    for (const r of ["phttp", "pssh"]) await git("config", `remote.${r}.annex-proxy`, "true");
    await addNodes(gw, "mycluster", [
      { name: "clocal", url: join(root, "clocal") },
      { name: "chttp", url: join(root, "chttp"), annexUrl: annexUrl(chttp) },
      { name: "cssh", url: `${sshd.host}:${join(root, "cssh")}` },
    ]);
    await git("config", "remote.chttp.annex-uuid", await uuidOf(join(root, "chttp")));
    await git("config", "remote.cssh.annex-uuid", await uuidOf(join(root, "cssh")));
    await git("config", "annex.security.allowed-ip-addresses", "all");
    await git("config", "annex.sshcaching", "false");
    cluster = await initCluster("annexgate", gw, "mycluster", sshd.clientEnv());
    await configCommand("annexgate", gw, ["updateproxy"], sshd.clientEnv());
    Object.assign(process.env, sshd.clientEnv());
    // The clients' own idle timeout is set far off, so that only the
    // gateway giving up on the stalled node can answer them: without that,
    // each test below waits until its timeout and fails.
    server = await startP2pHttp(
      [
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--wideopen",
        "--jobs",
        "4",
        "--idle-timeout",
        "3600",
      ].concat(QUIET),
      gw,
      { stallTimeoutMs: STALL_MS },
    );
    base = `http://127.0.0.1:${Number(server.address.split(":").pop())}/git-annex`;
    nodes.set("proxied p2phttp", httpNode("phttp", join(root, "phttp"), phttp.port));
    nodes.set("proxied ssh", sshNode("pssh", join(root, "pssh")));
    nodes.set("cluster p2phttp", httpNode("chttp", join(root, "chttp"), chttp.port));
    nodes.set("cluster ssh", sshNode("cssh", join(root, "cssh")));
    // Warm up: a request to each target, so the gateway's connections are open.
    for (const uuid of [
      await uuidOf(join(root, "phttp")),
      await uuidOf(join(root, "pssh")),
      cluster,
    ]) {
      const c = client(uuid);
      await c.getTimestamp().finally(() => c.close());
    }
    await waitFor("the warm-up to settle", async () => server.p2p.stats().requests === 0);
    baseline = server.p2p.stats();
  });
  after(async () => {
    signal([...stopped], "SIGCONT");
    await server?.stop();
    for (const p of httpNodes) await p.stop();
    await sshd?.stop();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    if (root) await removeDir(root);
  });

  const targetOf = async (name: string): Promise<{ node: StallableNode; uuid: string }> => {
    const node = nodes.get(name) as StallableNode;
    return { node, uuid: name.startsWith("cluster") ? cluster : await uuidOf(node.repo) };
  };

  for (const name of ["proxied p2phttp", "proxied ssh", "cluster p2phttp", "cluster ssh"]) {
    test(`${name}: a put whose node stops mid-body is answered, and succeeds once it resumes`, async () => {
      const { node, uuid } = await targetOf(name);
      const data = randomBytes(SIZE);
      const key = parseKey(keyFor(data));
      const c = client(uuid);
      try {
        let stopped = (): void => undefined;
        const nodeStopped = new Promise<void>((r) => {
          stopped = r;
        });
        const putting = c
          .store({ key, offset: 0, length: SIZE, data: chunks(data, nodeStopped) })
          .then(
            (r) => r,
            (e: unknown) => e as Error,
          );
        await waitFor(`${node.name} receiving bytes`, async () => (await tmpBytes(node.repo)) > 0);
        const pids = await stop(node);
        stopped();
        const answer = await putting;
        const nodeUuid = await uuidOf(node.repo);
        if (answer instanceof Error) {
          assert.ok(!answer.message.includes(root), `no server path in ${answer.message}`);
        } else {
          // A cluster stores on its other nodes; the stalled one is not among them.
          assert.equal(answer.stored, name.startsWith("cluster"), JSON.stringify(answer));
          assert.ok(!answer.plusUuids.includes(nodeUuid), JSON.stringify(answer));
        }
        await backToBaseline("after the stall");
        resume(pids);
        // A resumed stock node may still hold the cut upload of this key
        // until it notices that connection gone; meanwhile the gateway
        // answers each put within its stall timeout (never hangs). Bounded
        // by count and time.
        let again: Error | { stored: boolean } = new Error("not tried");
        const deadline = Date.now() + 120_000;
        for (let i = 0; i < 30 && Date.now() < deadline; i++) {
          again = await c
            .store({ key, offset: 0, length: SIZE, data: chunks(data) })
            .catch((e: unknown) => e as Error);
          if (!(again instanceof Error) && again.stored) break;
        }
        assert.ok(!(again instanceof Error) && again.stored, String(again));
        assert.ok(await holdsVerified(node.repo, keyFor(data)), `${node.name} holds the content`);
        await backToBaseline("after the honest put");
      } finally {
        await c.close();
      }
    });
  }

  for (const name of ["proxied p2phttp", "proxied ssh", "cluster p2phttp", "cluster ssh"]) {
    test(`${name}: a remove whose node is stopped is answered, and succeeds once it resumes`, async () => {
      const { node, uuid } = await targetOf(name);
      const data = randomBytes(64 * 1024);
      const key = parseKey(keyFor(data));
      const c = client(uuid);
      try {
        const stored = await c.store({ key, offset: 0, length: data.length, data: chunks(data) });
        assert.equal(stored.stored, true);
        assert.ok(await holdsVerified(node.repo, keyFor(data)), `${node.name} holds the content`);
        const pids = await stop(node);
        const answer = await c.remove(key).then(
          (r) => r,
          (e: unknown) => e as Error,
        );
        if (answer instanceof Error) {
          assert.ok(!answer.message.includes(root), `no server path in ${answer.message}`);
        } else {
          // Not removed from the stopped node; a cluster may report its others.
          assert.equal(answer.removed, false, JSON.stringify(answer));
        }
        await backToBaseline("after the stalled remove");
        resume(pids);
        // The node may carry out the request it took before it was stopped;
        // either way a remove now answers removed (bounded by count).
        let again: Error | { removed: boolean } = new Error("not tried");
        for (let i = 0; i < 5; i++) {
          again = await c.remove(key).catch((e: unknown) => e as Error);
          if (!(again instanceof Error) && again.removed) break;
        }
        assert.ok(!(again instanceof Error) && again.removed, String(again));
        assert.equal(await holdsVerified(node.repo, keyFor(data)), false);
        await backToBaseline("after the honest remove");
      } finally {
        await c.close();
      }
    });
  }

  for (const name of ["proxied p2phttp", "proxied ssh"]) {
    test(`${name}: a get whose node stops mid-body ends, and succeeds once it resumes`, async () => {
      const { node, uuid } = await targetOf(name);
      const data = randomBytes(SIZE);
      const key = parseKey(keyFor(data));
      const c = client(uuid);
      try {
        assert.equal(
          (await c.store({ key, offset: 0, length: SIZE, data: chunks(data) })).stored,
          true,
        );
        const got = await c.retrieve(key, 0);
        assert.ok(got, "the node has the content");
        const reader = got.data[Symbol.asyncIterator]();
        const first = await reader.next();
        assert.ok(!first.done, "the first bytes arrive");
        const pids = await stop(node);
        let received = (first.value as Buffer).length;
        const drained = (async () => {
          for (;;) {
            const r = await reader.next();
            if (r.done) return;
            received += (r.value as Buffer).length;
          }
        })().catch((e: unknown) => e);
        await drained;
        assert.equal(await got.valid, false, "a download cut short is not valid");
        assert.ok(received < SIZE, `${received} of ${SIZE} bytes`);
        await backToBaseline("after the stall");
        resume(pids);
        const again = await c.retrieve(key, 0);
        assert.ok(again, "the node has the content");
        const hash = createHash("sha256");
        for await (const chunk of again.data) hash.update(chunk as Buffer);
        assert.equal(await again.valid, true);
        assert.ok(keyFor(data).includes(hash.digest("hex")));
        await backToBaseline("after the honest get");
      } finally {
        await c.close();
      }
    });
  }
});
