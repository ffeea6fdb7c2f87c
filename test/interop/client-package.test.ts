/**
 * `annexgate/client` as a Node application uses it: the package packed
 * and installed in a clean project, and a script there that imports only
 * `annexgate/client` (by the package's name, through its exports) uploads
 * 1,000 small files to a cluster of two nodes behind `annexgate p2phttp`,
 * 8 at a time, printing each key. A stock git-annex clone of the gateway,
 * reached over p2phttp, then makes those keys files (`fromkey`), gets
 * every one from the cluster and fscks it.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { localCluster } from "../helpers/cluster.js";
import {
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  runOutcome,
  waitFor,
} from "../helpers/index.js";
import { installPackedCheckout } from "../helpers/package.js";
import { annexHttpClone, QUIET, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const FILES = 1000;
const IN_FLIGHT = 8;

/**
 * The application's script: put every file of a directory into the
 * repository or cluster `uuid` behind `url`, `IN_FLIGHT` at once; one line
 * per file, "KEY NAME" (what `git annex fromkey --batch` reads), and where
 * `annexgate/client` resolved to, on stderr.
 */
const SCRIPT = `import { openAsBlob } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { computeKey, connect, formatKey } from "annexgate/client";

const [url, uuid, dir] = process.argv.slice(2);
process.stderr.write(\`resolved \${import.meta.resolve("annexgate/client")}\\n\`);
const client = await connect({ url, uuid, maxRequests: ${IN_FLIGHT} });
const names = (await readdir(dir)).sort();
let next = 0;
async function worker() {
  for (let i = next++; i < names.length; i = next++) {
    const name = names[i];
    const file = await openAsBlob(join(dir, name));
    const key = await computeKey(file, { fileName: name });
    const { stored } = await client.put(key, file, { associatedFile: name });
    if (!stored) throw new Error(\`\${name}: not stored\`);
    process.stdout.write(\`\${formatKey(key)} \${name}\\n\`);
  }
}
await Promise.all(Array.from({ length: ${IN_FLIGHT} }, worker));
await client.close();
`;

/** The names of the files under `dir`, at any depth (a repository's object files are named by their keys). */
async function fileNames(dir: string): Promise<Set<string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
}

/** Every line of `--json` output of a stock command, parsed. */
function jsonLines(out: string): { success?: boolean; file?: string }[] {
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { success?: boolean; file?: string });
}

describe("annexgate/client from the installed package, in a Node script", {
  timeout: 300_000,
}, () => {
  let root = "";
  let app = "";
  let gw = "";
  let cluster = "";
  let server: RunningP2pHttp | undefined;

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-client-package-");
    [app, { gw, cluster }] = await Promise.all([
      installPackedCheckout(root, "a-web-application"),
      localCluster(join(root, "repos"), ["node1", "node2"], "annexgate"),
    ]);
    server = await startAnnexgate(gw, ["--wideopen", ...QUIET]);
  });
  after(async () => {
    await server?.stop();
    if (root !== "") await removeDir(root);
  });

  it("uploads 1,000 files to a cluster, and a stock clone gets every one", async (t) => {
    const data = join(app, "data");
    await mkdir(data);
    const content = new Map<string, Buffer>();
    for (let i = 0; i < FILES; i++) {
      const name = `f${String(i).padStart(4, "0")}.dat`;
      const bytes = randomBytes(1 + ((i * 37) % 4096));
      content.set(name, bytes);
      await writeFile(join(data, name), bytes);
    }
    await writeFile(join(app, "upload.mjs"), SCRIPT);
    const port = (server as RunningP2pHttp).port;
    const url = `annex+http://127.0.0.1:${port}/git-annex/`;
    const started = performance.now();
    const script = await runOutcome(process.execPath, ["upload.mjs", url, cluster, data], {
      cwd: app,
    });
    assert.equal(script.code, 0, script.stderr);
    // The package's own entry point, as Node resolves it through the exports.
    const resolved = join(app, "node_modules", "annexgate", "dist", "src", "client", "index.js");
    assert.ok(script.stderr.includes(`resolved file://${resolved}\n`), script.stderr);
    const printed = script.stdout;
    t.diagnostic(`uploaded in ${Math.round(performance.now() - started)} ms`);

    // One key per file, as git-annex computes it (SHA256E: the hash, the size, the extension).
    const lines = printed.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, FILES);
    const keys = new Map(
      lines.map((l) => [l.slice(l.indexOf(" ") + 1), l.slice(0, l.indexOf(" "))]),
    );
    for (const [name, bytes] of content) {
      const sha = createHash("sha256").update(bytes).digest("hex");
      assert.equal(keys.get(name), `SHA256E-s${bytes.length}--${sha}.dat`, name);
    }
    // On both nodes of the cluster.
    for (const node of ["node1", "node2"]) {
      const held = await fileNames(join(root, "repos", node, ".git", "annex", "objects"));
      const missing = [...keys.values()].filter((k) => !held.has(k));
      assert.deepEqual(missing, [], `not on ${node}`);
    }

    // A stock clone, through p2phttp, learns the keys and gets them from the cluster.
    const client = await annexHttpClone(gw, join(root, "client"), port);
    const git = (...a: string[]) => run("git", a, { cwd: client });
    await run("git", ["annex", "fromkey", "--force", "--batch"], { cwd: client, input: printed });
    await git("commit", "-q", "-m", "the application's files");
    await waitFor("the gateway to record the locations on its branch", async () => {
      await git("fetch", "-q", "origin");
      const found = await git("annex", "find", "--in", "origin-mycluster");
      return found.split("\n").filter((l) => l !== "").length === FILES;
    });
    const getting = performance.now();
    const got = jsonLines(
      await git("annex", "get", "-J8", "--from", "origin-mycluster", "--json", "."),
    );
    assert.equal(got.filter((g) => g.success === true).length, FILES);
    t.diagnostic(`stock got them in ${Math.round(performance.now() - getting)} ms`);
    const fscked = jsonLines(await git("annex", "fsck", "--json", "."));
    assert.equal(fscked.length, FILES);
    assert.deepEqual(
      fscked.filter((f) => f.success !== true),
      [],
    );
    for (const [name, bytes] of content) {
      assert.ok((await readFile(join(client, name))).equals(bytes), name);
    }
  });
});
