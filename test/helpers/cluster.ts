/**
 * Building clusters for tests the way tips/clusters describes: node
 * repositories, a gateway repository with the nodes as remotes marked
 * `annex-cluster-node`, then `initcluster` and `updatecluster` — run with
 * stock git-annex or with annexgate's own commands.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join, resolve } from "node:path";
import { parseKey } from "../../src/keys/index.js";
import { HttpPeer } from "../../src/peers/index.js";
import { RELOADED } from "../../src/proxy/gateway-snapshot.js";
import { gitAnnexRepo, run, waitFor } from "./index.js";
import { ANNEXGATE_BIN, type RunningP2pHttp, startAnnexgate } from "./servers.js";

export type ConfigTool = "stock" | "annexgate";

export interface NodeSpec {
  readonly name: string;
  /** remote.NAME.url */
  readonly url: string;
  /** remote.NAME.annexurl, for a node reached over p2phttp. */
  readonly annexUrl?: string;
  /** remote.NAME.annex-uuid, for a node git-annex cannot ask (ssh, http). */
  readonly uuid?: string;
}

/** Run a configuration command (initcluster, updatecluster, …) with the chosen tool. */
export function configCommand(
  tool: ConfigTool,
  cwd: string,
  args: readonly string[],
  env?: Record<string, string>,
): Promise<string> {
  return tool === "stock"
    ? run("git", ["annex", ...args], { cwd, ...(env ? { env } : {}) })
    : run(process.execPath, [ANNEXGATE_BIN, ...args], { cwd, ...(env ? { env } : {}) });
}

/** A git-annex repository with one commit (so it can be cloned). */
export async function gatewayRepo(dir: string, description: string): Promise<string> {
  await gitAnnexRepo(dir, description);
  await run("git", ["commit", "-q", "--allow-empty", "-m", "init"], { cwd: dir });
  return dir;
}

/** Add the nodes as remotes of `gateway`, marked as nodes of `cluster`. */
export async function addNodes(
  gateway: string,
  cluster: string,
  nodes: readonly NodeSpec[],
): Promise<void> {
  const git = (...a: string[]) => run("git", a, { cwd: gateway });
  for (const n of nodes) {
    await git("remote", "add", n.name, n.url);
    if (n.annexUrl !== undefined) await git("config", `remote.${n.name}.annexurl`, n.annexUrl);
    if (n.uuid !== undefined) await git("config", `remote.${n.name}.annex-uuid`, n.uuid);
    await git("config", `remote.${n.name}.annex-cluster-node`, cluster);
  }
}

/** initcluster + updatecluster in `gateway`; returns the cluster's UUID. */
export async function initCluster(
  tool: ConfigTool,
  gateway: string,
  cluster: string,
  env?: Record<string, string>,
): Promise<string> {
  await configCommand(tool, gateway, ["initcluster", cluster], env);
  await configCommand(tool, gateway, ["updatecluster"], env);
  return (await run("git", ["config", `annex.cluster.${cluster}`], { cwd: gateway })).trim();
}

export async function uuidOf(repo: string): Promise<string> {
  return (await run("git", ["config", "annex.uuid"], { cwd: repo })).trim();
}

/** The annexed key of `file` in a client's work tree. */
export async function keyOf(repo: string, file: string): Promise<string> {
  return (await run("git", ["annex", "lookupkey", file], { cwd: repo })).trim();
}

/**
 * True when `repo` holds `key` with the right content: its object file
 * exists and hashes to the key (SHA256E keys).
 */
export async function holdsVerified(repo: string, key: string): Promise<boolean> {
  let path: string;
  try {
    path = (await run("git", ["annex", "contentlocation", key], { cwd: repo })).trim();
  } catch {
    return false;
  }
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(resolve(repo, path))) hash.update(chunk as Buffer);
  } catch {
    return false;
  }
  return key.includes(`--${hash.digest("hex")}`);
}

/**
 * Under `root`: a repository per node name, and `gw`, a gateway with them
 * as remotes forming cluster "mycluster" (configured with `tool`).
 * Returns the gateway's path and the cluster's UUID.
 */
export async function localCluster(
  root: string,
  nodes: readonly string[],
  tool: ConfigTool,
): Promise<{ gw: string; cluster: string }> {
  for (const n of nodes) await gitAnnexRepo(join(root, n), n);
  const gw = await gatewayRepo(join(root, "gw"), "gateway");
  await addNodes(
    gw,
    "mycluster",
    nodes.map((name) => ({ name, url: join(root, name) })),
  );
  return { gw, cluster: await initCluster(tool, gw, "mycluster") };
}

/**
 * Waits until the gateway serving `server` answers from a git-annex branch
 * that holds the client's pushed `synced/git-annex`: merged into its
 * branch (by annexgate, or by stock git-annex's post-receive hook during
 * the push) and re-read by the server, which logs that it re-read it.
 * `since`: the length of the server's stderr before the push.
 */
export async function waitForGatewayMerge(
  gw: string,
  server: RunningP2pHttp,
  cluster: string,
  since: number,
): Promise<void> {
  const peer = new HttpPeer({
    url: `${server.base}/`,
    uuid: cluster,
    clientUuid: "00000000-0000-4000-8000-00000000c11e",
  });
  const key = parseKey(
    "SHA256E-s1--0000000000000000000000000000000000000000000000000000000000000000",
  );
  try {
    await waitFor("the gateway to merge the pushed git-annex branch and re-read it", async () => {
      // A request makes the server look for changes (at most once a second).
      await peer.checkPresent(key);
      if (!server.stderr().slice(since).includes(RELOADED)) return false;
      return run("git", ["merge-base", "--is-ancestor", "synced/git-annex", "git-annex"], {
        cwd: gw,
      }).then(
        () => true,
        () => false,
      );
    });
  } finally {
    await peer.close();
  }
}

/**
 * Under `root`: node1 and node2, repositories the gateway opens itself, and
 * node3, served by its own `annexgate p2phttp` (which a test may stop),
 * behind `gw`, a gateway of cluster "mycluster" configured with
 * annexgate's commands. The caller stops `node3`.
 */
export async function clusterWithHttpNode(
  root: string,
): Promise<{ gw: string; cluster: string; node3: RunningP2pHttp }> {
  for (const n of ["node1", "node2", "node3"]) await gitAnnexRepo(join(root, n), n);
  const node3 = await startAnnexgate(join(root, "node3"), ["--wideopen"]);
  const gw = await gatewayRepo(join(root, "gw"), "gateway");
  await addNodes(gw, "mycluster", [
    { name: "node1", url: join(root, "node1") },
    { name: "node2", url: join(root, "node2") },
    {
      name: "node3",
      url: join(root, "node3"),
      annexUrl: `annex+http://127.0.0.1:${node3.port}/git-annex/`,
      uuid: await uuidOf(join(root, "node3")),
    },
  ]);
  await run("git", ["config", "annex.security.allowed-ip-addresses", "all"], { cwd: gw });
  return { gw, cluster: await initCluster("annexgate", gw, "mycluster"), node3 };
}
