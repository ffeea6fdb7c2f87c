/**
 * A mixed cluster behind `annexgate p2phttp`: two repository nodes, a
 * directory special remote and an S3 special remote (stock `initremote`
 * on s3rver), used by a stock client. Uploads land exactly on the nodes
 * whose preferred content wants the key (and, with `balanced=nodes:2`,
 * on the two nodes stock git-annex's own `copy --auto` picks); a download
 * comes from the S3 node when it alone holds the key; a drop from the
 * cluster empties every node; and an S3 server stopped in the middle of
 * an upload is named in the gateway's log while the other nodes store
 * the key and nothing of it is visible on the S3 side (its unfinished
 * upload aborted by the next store once the server is back).
 */
import assert from "node:assert/strict";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DirectoryStorage } from "../../src/peers/index.js";
import {
  addNodes,
  gatewayRepo,
  holdsVerified,
  initCluster,
  keyOf,
  waitForGatewayMerge,
} from "../helpers/cluster.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  waitFor,
  writeRandomFile,
} from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  s3AdminClient,
  startS3Server,
} from "../helpers/s3-server.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const BUCKET = "annexgate-mixed";
const NODES = ["node1", "node2", "dn", "s3n"] as const;
type Node = (typeof NODES)[number];

describe("a mixed cluster: repositories, a directory and S3", { timeout: 600_000 }, () => {
  let root = "";
  let gw = "";
  let client = "";
  let d = "";
  let cluster = "";
  let s3: RunningS3Server | undefined;
  let admin: S3Client | undefined;
  let server: RunningP2pHttp | undefined;
  const uuids = new Map<Node, string>();
  const git = (cwd: string, ...a: string[]) => run("git", a, { cwd });

  /** Whether `node` holds `key`, looked at in its own storage, not through the gateway. */
  async function holds(node: Node, key: string): Promise<boolean> {
    if (node === "dn") return new DirectoryStorage(d).has(key);
    if (node === "s3n") {
      return (admin as S3Client).send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
        () => true,
        (e: { $metadata?: { httpStatusCode?: number } }) => {
          if (e.$metadata?.httpStatusCode === 404) return false;
          throw e;
        },
      );
    }
    return holdsVerified(join(root, node), key);
  }
  async function holding(key: string): Promise<Node[]> {
    const out: Node[] = [];
    for (const n of NODES) if (await holds(n, key)) out.push(n);
    return out;
  }
  /** The nodes stock `whereis` in `repo` lists for `key`. */
  async function whereis(repo: string, key: string): Promise<Node[]> {
    const out = await git(repo, "annex", "whereis", "--json", "--key", key).catch(() => "{}");
    const listed = new Set(
      ((JSON.parse(out) as { whereis?: { uuid: string }[] }).whereis ?? []).map((w) => w.uuid),
    );
    return NODES.filter((n) => listed.has(uuids.get(n) as string));
  }
  /** Configure preferred content from the client and push it, as `git annex sync` would. */
  async function configure(commands: string[][]): Promise<void> {
    for (const c of commands) await git(client, "annex", ...c);
    const since = (server as RunningP2pHttp).stderr().length;
    await git(client, "push", "-q", "origin", "git-annex:synced/git-annex");
    await waitForGatewayMerge(gw, server as RunningP2pHttp, cluster, since);
  }
  async function addFiles(names: readonly string[], size: number): Promise<string[]> {
    for (const n of names) await writeRandomFile(join(client, n), size);
    await git(client, "annex", "add", "-q", ...names);
    await git(client, "commit", "-q", "-m", names.join(" "));
    return Promise.all(names.map((n) => keyOf(client, n)));
  }
  const WANTED_BUT_NODE1 = [
    ["wanted", "origin-node1", "nothing"],
    ...NODES.filter((n) => n !== "node1").map((n) => ["wanted", `origin-${n}`, "anything"]),
  ];

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-mixed-cluster-");
    s3 = await startS3Server();
    admin = s3AdminClient(s3);
    for (const n of ["node1", "node2"]) await gitAnnexRepo(join(root, n), n);
    gw = await gatewayRepo(join(root, "gw"), "gateway");
    d = join(root, "d");
    await mkdir(d);
    await git(
      gw,
      "annex",
      "initremote",
      "dn",
      "type=directory",
      `directory=${d}`,
      "encryption=none",
    );
    await initStockS3Remote(gw, s3, "s3n", BUCKET);
    await addNodes(gw, "mycluster", [
      { name: "node1", url: join(root, "node1") },
      { name: "node2", url: join(root, "node2") },
    ]);
    for (const n of ["dn", "s3n"])
      await git(gw, "config", `remote.${n}.annex-cluster-node`, "mycluster");
    cluster = await initCluster("annexgate", gw, "mycluster");
    for (const n of NODES) uuids.set(n, (await git(gw, "config", `remote.${n}.annex-uuid`)).trim());
    // The gateway reads the S3 credentials stock cached at initremote.
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    await configure(WANTED_BUT_NODE1);
  });
  after(async () => {
    await server?.stop();
    admin?.destroy();
    await s3?.close();
    if (root !== "") await removeDir(root);
  });

  it("an upload lands exactly on the nodes that want it", async () => {
    const [key] = (await addFiles(["w.dat"], 40_000)) as [string];
    await git(client, "annex", "copy", "-q", "--to", "origin-mycluster", "w.dat");
    assert.deepEqual(await holding(key), ["node2", "dn", "s3n"]);
    // The client recorded the nodes the gateway reported, and so did the gateway.
    assert.deepEqual(await whereis(client, key), ["node2", "dn", "s3n"]);
    await waitFor(
      "the gateway to record the copies",
      async () => (await whereis(gw, key)).length === 3,
    );
    assert.deepEqual(await whereis(gw, key), ["node2", "dn", "s3n"]);
    const fsck = await git(gw, "annex", "fsck", "--fast", "--from", "s3n", "--key", key);
    assert.match(fsck, / ok$/m, fsck);
  });

  it("a download comes from the S3 node when it alone holds the key", async () => {
    const key = await keyOf(client, "w.dat");
    await git(join(root, "node2"), "annex", "drop", "-q", "--force", "--key", key);
    await git(gw, "annex", "drop", "-q", "--force", "--from", "dn", "--key", key);
    assert.deepEqual(await holding(key), ["s3n"]);
    await git(client, "annex", "drop", "-q", "--force", "w.dat");
    await git(client, "annex", "get", "-q", "--from", "origin-mycluster", "w.dat");
    assert.equal(await holdsVerified(client, key), true);
  });

  it("a drop from the cluster removes the object from every node", async () => {
    const [key] = (await addFiles(["x.dat"], 30_000)) as [string];
    await git(client, "annex", "copy", "-q", "--to", "origin-mycluster", "x.dat");
    assert.deepEqual(await holding(key), ["node2", "dn", "s3n"]);
    await git(client, "annex", "drop", "-q", "--from", "origin-mycluster", "x.dat");
    assert.deepEqual(await holding(key), []);
    assert.deepEqual(await whereis(client, key), []);
  });

  it("balanced=nodes:2 places each file on the two nodes stock copy --auto picks", async () => {
    await configure([
      ...NODES.map((n) => ["group", `origin-${n}`, "nodes"]),
      ["groupwanted", "nodes", "balanced=nodes:2"],
      ...NODES.map((n) => ["wanted", `origin-${n}`, "groupwanted"]),
    ]);
    const files = Array.from({ length: 4 }, (_, i) => `b${i}.dat`);
    const keys = await addFiles(files, 8_000);
    // annexgate decides for the whole cluster at once.
    await git(client, "annex", "copy", "-q", "--to", "origin-mycluster", ...files);
    const byGateway: Node[][] = [];
    for (const k of keys) byGateway.push(await holding(k));
    for (const [i, where] of byGateway.entries()) {
      assert.equal(where.length, 2, `${files[i]}: ${where}`);
    }
    assert.ok(new Set(byGateway.flat()).size > 2, JSON.stringify(byGateway));
    await git(client, "annex", "drop", "-q", "--from", "origin-mycluster", ...files);
    for (const k of keys) assert.deepEqual(await holding(k), [], k);
    // Stock decides node by node, through the proxied remotes: the same nodes.
    for (const n of NODES) {
      await git(client, "annex", "copy", "-q", "--auto", "--to", `origin-${n}`, ...files);
    }
    for (const [i, k] of keys.entries()) assert.deepEqual(await holding(k), byGateway[i], files[i]);
  });

  it("the S3 server stopped mid-upload: named in the log, the others store, nothing on S3", async () => {
    await configure(WANTED_BUT_NODE1);
    // Larger than a part (8 MiB by default): smaller objects are one
    // PutObject at the end, this one a multipart upload begun mid-stream.
    const [key] = (await addFiles(["cut.dat"], 8 * 1024 * 1024 + 50_000)) as [string];
    const s = s3 as RunningS3Server;
    const hold = s.holdPartUploads();
    const copy = git(client, "annex", "copy", "--to", "origin-mycluster", "cut.dat").then(
      (out) => ({ ok: true, out }),
      (e: Error) => ({ ok: false, out: e.message }),
    );
    // The S3 node's bytes reached the server: now it goes away.
    await waitFor("the S3 server to receive the upload's part", async () => hold.held() > 0);
    await s.stop();
    const result = await copy;
    const s3uuid = uuids.get("s3n") as string;
    assert.match(server?.stderr() ?? "", new RegExp(`store on ${s3uuid} failed`));
    // As stock's cluster does: the upload counts for the nodes that stored it.
    assert.equal(result.ok, true, result.out);
    assert.equal(await holds("node2", key), true);
    assert.equal(await holds("dn", key), true);
    assert.equal(await holds("node1", key), false);
    assert.deepEqual(await whereis(client, key), ["node2", "dn"]);
    await waitFor(
      "the gateway to record the copies",
      async () => (await whereis(gw, key)).length >= 2,
    );
    assert.deepEqual(await whereis(gw, key), ["node2", "dn"]);
    // No object of the key in the S3 server's storage.
    const objects = (await readdir(join(s.directory, BUCKET), { recursive: true })).filter(
      (f) => f.includes(key) && !f.startsWith("._S3rver_uploads"),
    );
    assert.deepEqual(objects, []);
    // The gateway's abort could not reach the stopped server: the upload
    // it began is left until the server is back and the key is stored
    // again, which aborts it before storing.
    assert.equal((await s.pendingUploads(BUCKET)).length, 1);
    await s.restart();
    await git(client, "annex", "copy", "-q", "--to", "origin-s3n", "cut.dat");
    assert.deepEqual(await s.pendingUploads(BUCKET), []);
    assert.equal(await holds("s3n", key), true);
  });
});
