/**
 * Slow and silent clients: downloads nobody reads and uploads that stop
 * sending take every --jobs slot and fill the queue; a new client is still
 * answered (a 503 when the queue is full, a 429 past the per-client cap,
 * and requests that need no slot as usual) while they hold on; the idle
 * timeout then cuts them, the counts return to where they started, and
 * nothing grows past its bound on the way.
 *
 * The server runs in this process (startP2pHttp) so the test reads its
 * stats(); the idle timeout is 2 s, and the test waits on answers and
 * counts, never on a number of milliseconds.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningServer, startP2pHttp } from "../../src/cli/p2phttp.js";
import { gitAnnexRepo, makeTempDir, removeDir, requireGitAnnex } from "../helpers/index.js";
import {
  honest,
  type RawRequest,
  type StalledClient,
  stalledClient,
  until,
} from "../helpers/raw-http.js";
import { QUIET } from "../helpers/servers.js";

const CLIENT = "a0e4f1b2-1111-4222-8333-444455556666";
const JOBS = 2;
const MAX_QUEUED = 2;
const MAX_PER_CLIENT = 7;

function keyFor(data: Buffer): string {
  return `SHA256E-s${data.length}--${createHash("sha256").update(data).digest("hex")}.bin`;
}

describe("slow and silent clients against annexgate p2phttp", { timeout: 300_000 }, () => {
  let root: string;
  let server: RunningServer;
  let port = 0;
  let uuid = "";
  const big = randomBytes(48 * 1024 * 1024);
  const path = (op: string, q: Record<string, string> = {}) =>
    `/git-annex/${uuid}/v4/${op}?${new URLSearchParams({ clientuuid: CLIENT, ...q })}`;
  const getBig = (): RawRequest => ({ method: "GET", path: path(`key/${keyFor(big)}`) });
  const putNew = (): RawRequest => {
    const data = randomBytes(1024 * 1024);
    return {
      method: "POST",
      path: path("put", { key: keyFor(data) }),
      headers: { "X-git-annex-data-length": String(data.length) },
      body: data,
    };
  };
  const stats = () => server.p2p.stats();

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-slow-");
    const repo = await gitAnnexRepo(join(root, "served"), "served");
    server = await startP2pHttp(
      [
        ...["--bind", "127.0.0.1", "--port", "0", "--wideopen", ...QUIET],
        ...["--jobs", String(JOBS), "--max-queued", String(MAX_QUEUED)],
        ...["--max-per-client", String(MAX_PER_CLIENT), "--idle-timeout", "2"],
      ],
      repo,
    );
    port = Number(server.address.split(":").pop());
    uuid = server.repos.repositories()[0]?.uuid ?? "";
    const put = await honest(port, {
      method: "POST",
      path: path("put", { key: keyFor(big) }),
      headers: { "X-git-annex-data-length": String(big.length) },
      body: big,
    });
    assert.equal(put.status, 200, put.body.toString());
  });
  after(async () => {
    await server?.stop();
    if (root) await removeDir(root);
  });

  test("stalled readers and writers hold every slot; others are answered; the idle timeout frees all", async () => {
    await until("the setup's requests to end", () => stats().requests === 0);
    const baseline = stats();
    const stalled: StalledClient[] = [];
    // A download nobody reads, and an upload that stopped sending: every slot.
    stalled.push(await stalledClient(port, getBig()));
    stalled.push(await stalledClient(port, putNew(), { bodyBytes: 64 * 1024 }));
    await until("both slots to be held", () => stats().transferSlots === JOBS);
    // Two more uploads wait for a slot, silent too: the queue is full.
    for (let i = 0; i < MAX_QUEUED; i++) stalled.push(await stalledClient(port, putNew()));
    await until("the queue to fill", () => stats().queuedTransfers === MAX_QUEUED);
    // A silent keeplocked with a made-up lock id: no slot, but a request.
    stalled.push(
      await stalledClient(port, {
        method: "POST",
        path: path("keeplocked", { lockid: "0d3a4d3c-7a5e-4f1c-9d0e-123456789abc" }),
        body: Buffer.from('{"unlock": true}\n'),
      }),
    );
    await until("the keeplocked to be seen", () => stats().requests === JOBS + MAX_QUEUED + 1);

    // A new client's transfer is refused at once, cleanly, while they hold on.
    const refused = await honest(port, getBig());
    assert.equal(refused.status, 503);
    assert.match(refused.body.toString(), /server busy/);
    assert.equal(stats().transferSlots, JOBS, "answered while every slot was still held");
    // A request that needs no slot is answered as usual.
    const present = await honest(port, {
      method: "POST",
      path: path("checkpresent", { key: keyFor(big) }),
    });
    assert.equal(present.status, 200);
    assert.deepEqual(JSON.parse(present.body.toString()), { present: true });

    // A flood of silent requests from the same address: two more fit
    // under the per-client cap, every other one is refused with 429 at
    // once; no count passes its bound.
    const flood: StalledClient[] = [];
    for (let i = 0; i < 10; i++) {
      flood.push(
        await stalledClient(
          port,
          {
            method: "POST",
            path: path("keeplocked", { lockid: "0d3a4d3c-7a5e-4f1c-9d0e-123456789abc" }),
            body: Buffer.from('{"unlock": true}\n'),
          },
          { read: true },
        ),
      );
    }
    const refusals = () => flood.filter((c) => c.received().startsWith("HTTP/1.1 429 ")).length;
    await until("the flood past the cap to be refused", () => refusals() === 10 - 2);
    const during = stats();
    assert.equal(during.requests, MAX_PER_CLIENT, JSON.stringify(during));
    assert.equal(during.queuedTransfers, MAX_QUEUED, JSON.stringify(during));
    stalled.push(...flood);

    // The idle timeout cuts every silent client, and what they held is
    // free. (Seen in the server's counts: a client that never reads does
    // not notice its connection is gone.)
    await until("the counts to return to their baseline", () => {
      const s = stats();
      return (
        s.requests === 0 &&
        s.transferSlots === 0 &&
        s.queuedTransfers === 0 &&
        s.keyLocks === baseline.keyLocks &&
        s.contentLocks === baseline.contentLocks &&
        s.openFds <= baseline.openFds
      );
    });
    for (const c of stalled) c.sock.destroy();
    // And the next honest download is served whole.
    const got = await honest(port, getBig());
    assert.equal(got.status, 200);
    assert.equal(got.body.length, big.length);
  });
});
