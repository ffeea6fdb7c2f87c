/**
 * A single proxied node (not a cluster) that is over its maxsize, behind
 * stock `git annex p2phttp` and behind annexgate's: what does an upload
 * to it get? Stock 10.20250416 forwards every PUT to a proxied remote
 * (P2P/Proxy.hs: a lone remote's proxyPUT is always that remote) and the
 * node's git-annex-shell checks free disk space (annex.diskreserve), never
 * maxsize, which git-annex documents as advisory ("it does not prevent
 * git-annex from trying to store more data in a repository"). So the
 * upload is stored, by both; annexgate must not refuse what stock takes.
 * Both answers are compared: a stock client's `copy --to`, and a raw put.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { parseKey } from "../../src/keys/index.js";
import { HttpPeer } from "../../src/peers/index.js";
import { gatewayRepo, holdsVerified, keyOf, uuidOf } from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";
import {
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
  startStockP2pHttp,
} from "../helpers/servers.js";

const CLIENT = "c1e4f1b2-1111-4222-8333-444455556666";
const MAXSIZE = 1000;
const SIZE = 100_000;

type Server = "stock" | "annexgate";

interface Outcome {
  readonly copyExit: number;
  readonly copyOutput: string;
  readonly nodeHoldsCopied: boolean;
  readonly putStored: boolean;
  readonly nodeHoldsPut: boolean;
}

describe("upload to a proxied node over its maxsize: annexgate answers as stock", {
  timeout: 600_000,
}, () => {
  let root = "";
  const servers: RunningP2pHttp[] = [];
  const outcomes = new Map<Server, Outcome>();

  /** A node with a maxsize far below the file, behind a gateway served by `kind`. */
  async function outcomeOf(kind: Server): Promise<Outcome> {
    const dir = join(root, kind);
    const node = await gitAnnexRepo(join(dir, "node"), "node");
    const gw = await gatewayRepo(join(dir, "gw"), "gateway");
    const git = (...a: string[]) => run("git", a, { cwd: gw });
    await git("remote", "add", "node", node);
    await git("config", "remote.node.annex-proxy", "true");
    await git("annex", "updateproxy");
    await git("annex", "maxsize", "node", String(MAXSIZE));
    const server =
      kind === "stock" ? await startStockP2pHttp(gw) : await startAnnexgate(gw, ["--wideopen"]);
    servers.push(server);
    const client = await annexHttpClone(gw, join(dir, "client"), server.port);
    const c = (...a: string[]) => run("git", a, { cwd: client });
    await writeRandomFile(join(client, "big"), SIZE);
    await c("annex", "add", "-q", "big");
    await c("commit", "-q", "-m", "big");
    await c("annex", "sync", "-q", "--no-content", "origin");
    // The client sees the maxsize too (it is on the gateway's branch).
    assert.match(await c("annex", "maxsize"), /1 kB.*origin-node/);
    const copy = await run("git", ["annex", "copy", "--to", "origin-node", "big"], {
      cwd: client,
    }).then(
      (out) => ({ exit: 0, out }),
      (e: Error) => ({ exit: 1, out: e.message }),
    );
    const copied = await keyOf(client, "big");

    const data = randomBytes(SIZE);
    const key = `SHA256E-s${SIZE}--${createHash("sha256").update(data).digest("hex")}.bin`;
    const peer = new HttpPeer({
      url: `${server.base}/`,
      uuid: await uuidOf(node),
      clientUuid: CLIENT,
    });
    try {
      const put = await peer.store({
        key: parseKey(key),
        offset: 0,
        length: SIZE,
        data: Readable.from([data]),
      });
      return {
        copyExit: copy.exit,
        copyOutput: copy.out,
        nodeHoldsCopied: await holdsVerified(node, copied),
        putStored: put.stored,
        nodeHoldsPut: await holdsVerified(node, key),
      };
    } finally {
      await peer.close();
    }
  }

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-proxied-maxsize-");
    for (const kind of ["stock", "annexgate"] as const) outcomes.set(kind, await outcomeOf(kind));
  });
  after(async () => {
    for (const s of servers) await s.stop();
    if (root) await removeDir(root);
  });

  test("stock stores it: maxsize is advisory, a proxy forwards the PUT", () => {
    const stock = outcomes.get("stock") as Outcome;
    assert.equal(stock.copyExit, 0, stock.copyOutput);
    assert.equal(stock.nodeHoldsCopied, true);
    assert.equal(stock.putStored, true);
    assert.equal(stock.nodeHoldsPut, true);
  });

  test("annexgate answers both uploads exactly as stock", () => {
    const { copyOutput: _s, ...stock } = outcomes.get("stock") as Outcome;
    const { copyOutput, ...ours } = outcomes.get("annexgate") as Outcome;
    assert.deepEqual(ours, stock, copyOutput);
  });
});
