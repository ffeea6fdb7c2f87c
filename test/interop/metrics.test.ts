/**
 * annexgate p2phttp's Prometheus metrics after a scripted workload by a
 * stock client against a cluster of two local nodes and one node served
 * over p2phttp by another process: uploads, a download, a drop, and an
 * upload during which the p2phttp node is killed. The scraped text must
 * pass Prometheus's own checker (promtool), and each counter must equal
 * what the workload did: the bytes of every file, the nodes each went to,
 * the failed node's errors, and one request counted per request logged.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { clusterWithHttpNode, holdsVerified } from "../helpers/cluster.js";
import {
  makeTempDir,
  removeDir,
  run,
  tmpBytes,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import { checkWithPromtool, parseMetrics, type Sample, sumOf } from "../helpers/metrics.js";
import {
  annexHttpClone,
  freePort,
  type RunningP2pHttp,
  requestLines,
  startAnnexgate,
} from "../helpers/servers.js";

const MiB = 1024 * 1024;
const SMALL = ["s1", "s2", "s3"];
const BIG = 128 * MiB;

describe("metrics after a workload on a cluster, one node killed mid-upload", {
  timeout: 600_000,
}, () => {
  let root: string;
  let gw: string;
  let client: string;
  let node3: RunningP2pHttp;
  let server: RunningP2pHttp;
  let metricsPort: number;
  const git = (...a: string[]) => run("git", a, { cwd: client });
  const scrape = async () => {
    const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(r.status, 200);
    return r.text();
  };

  before(async () => {
    root = await makeTempDir("annexgate-metrics-");
    ({ gw, node3 } = await clusterWithHttpNode(root));
    metricsPort = await freePort();
    server = await startAnnexgate(gw, [
      "--wideopen",
      "--log-format",
      "json",
      "--metrics-port",
      String(metricsPort),
    ]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    for (const f of SMALL) await writeRandomFile(join(client, f), MiB);
    await writeRandomFile(join(client, "big"), BIG);
    await git("annex", "add", "-q", ...SMALL, "big");
    await git("commit", "-q", "-m", "files");
  });
  after(async () => {
    await server?.stop();
    await node3?.stop();
    await removeDir(root);
  });

  test("the workload: uploads, a download, a drop, a node killed mid-upload", async () => {
    await git("annex", "copy", "-q", "--to", "origin-mycluster", ...SMALL);
    await git("annex", "drop", "-q", "s1");
    await git("annex", "get", "-q", "--from", "origin-mycluster", "s1");
    await git("annex", "drop", "-q", "--from", "origin-mycluster", "s2");

    const copy = spawn("git", ["annex", "copy", "--to", "origin-mycluster", "big"], {
      cwd: client,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    copy.stderr.on("data", (d) => {
      err += d;
    });
    const exited = new Promise<number>((r) => copy.once("exit", (code) => r(code ?? -1)));
    await waitFor("node3 to receive part of the big upload", async () => {
      return (await tmpBytes(join(root, "node3"))) > MiB;
    });
    node3.child.kill("SIGKILL");
    assert.equal(await exited, 0, err);
    const big = (await run("git", ["annex", "lookupkey", "big"], { cwd: client })).trim();
    assert.equal(await holdsVerified(join(root, "node1"), big), true);
    assert.equal(await holdsVerified(join(root, "node3"), big), false);
  });

  test("the scraped text passes promtool's check", async () => {
    await checkWithPromtool(await scrape());
  });

  test("content and node bytes equal the files moved", async () => {
    const m = parseMetrics(await scrape());
    const content = (direction: string) => sumOf(m, "annexgate_content_bytes_total", { direction });
    assert.equal(content("in"), 3 * MiB + BIG, "stored: the three small files and the big one");
    assert.equal(content("out"), MiB, "sent: s1, once");
    const nodeBytes = (node: string, direction: string) =>
      sumOf(m, "annexgate_node_bytes_total", { node, direction });
    assert.equal(nodeBytes("node1", "out"), 3 * MiB + BIG);
    assert.equal(nodeBytes("node2", "out"), 3 * MiB + BIG);
    assert.equal(nodeBytes("node3", "out"), 3 * MiB, "node3 never finished the big file");
    const fromNodes = ["node1", "node2", "node3"].map((n) => nodeBytes(n, "in"));
    assert.equal(
      fromNodes.reduce((a, b) => a + b),
      MiB,
      "s1 was read from one node",
    );
  });

  test("fan-out counts: 3 small uploads to 3 nodes each, the big one to 2 of 3", async () => {
    const m = parseMetrics(await scrape());
    const fan = (outcome: string) =>
      sumOf(m, "annexgate_cluster_fanout_node_stores_total", { outcome });
    assert.equal(fan("stored"), 3 * 3 + 2);
    assert.equal(fan("failed"), 1);
    assert.equal(sumOf(m, "annexgate_cluster_fanout_duration_seconds_count", {}), 4);
  });

  test("the killed node's errors, and none for the others", async () => {
    const m = parseMetrics(await scrape());
    const errors = (node: string) => sumOf(m, "annexgate_node_errors_total", { node });
    assert.equal(errors("node1"), 0);
    assert.equal(errors("node2"), 0);
    assert.ok(errors("node3") >= 1, "the failed store is counted");
    // Every failure is among its calls, by the same kind.
    for (const s of m.filter((x) => x.name === "annexgate_node_errors_total")) {
      const calls = sumOf(m, "annexgate_node_requests_total", {
        node: s.labels.node as string,
        outcome: s.labels.kind as string,
      });
      assert.equal(calls, s.value, JSON.stringify(s.labels));
    }
    // The drop reached every node that held s2.
    for (const node of ["node1", "node2", "node3"]) {
      const removes = sumOf(m, "annexgate_node_requests_total", {
        node,
        operation: "remove",
        outcome: "ok",
      });
      assert.ok(removes >= 1, `${node} was asked to remove s2`);
    }
  });

  test("one request counted for each request logged, by endpoint and status", async () => {
    const m = parseMetrics(await scrape());
    const logged = new Map<string, number>();
    for (const l of requestLines(server.stderr())) {
      const k = `${l.endpoint} ${l.status}`;
      logged.set(k, (logged.get(k) ?? 0) + 1);
    }
    const counted = new Map<string, number>();
    for (const s of m.filter((x: Sample) => x.name === "annexgate_http_requests_total")) {
      const k = `${s.labels.endpoint} ${s.labels.status}`;
      counted.set(k, (counted.get(k) ?? 0) + s.value);
    }
    assert.deepEqual(counted, logged);
    assert.ok((counted.get("put 200") ?? 0) >= 4, "the four uploads");
  });

  test("when the workload is over, nothing is held, and sizes are those of the files kept", async () => {
    const m = parseMetrics(await scrape());
    assert.equal(sumOf(m, "annexgate_transfers_in_flight", {}), 0);
    assert.equal(sumOf(m, "annexgate_content_locks_held", {}), 0);
    assert.equal(sumOf(m, "annexgate_requests_in_progress", {}), 0);
    assert.ok(sumOf(m, "nodejs_eventloop_lag_seconds", {}) >= 0, "Node's own metrics are there");
    // s1, s3 and big on node1 and node2; s1 and s3 on node3.
    await waitFor("the live sizes to settle", async () => {
      const now = parseMetrics(await scrape());
      const size = (node: string) => sumOf(now, "annexgate_repository_size_bytes", { node });
      return (
        size("node1") === 2 * MiB + BIG &&
        size("node2") === 2 * MiB + BIG &&
        size("node3") === 2 * MiB
      );
    });
  });
});
