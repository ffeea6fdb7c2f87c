/**
 * The example page's targets, read from what the gateway serves now: its
 * clusters (with their nodes' names, lowest cost first), the remotes it
 * proxies for (by name), and the served repositories themselves; names
 * and UUIDs only.
 */
import type { GatewayLike } from "../server/index.js";
import type { ExampleTarget, ExampleTargets } from "./example/targets.js";

/** What the example page reads of the server. */
export interface ExampleSources {
  /** Each served repository, with its gateway when it is one. */
  served(): readonly {
    readonly repo: { readonly uuid: string };
    readonly gateway: GatewayLike | null;
  }[];
  /**
   * Origins (`scheme://host:port`) the page may send content to besides
   * the gateway: the object stores of indirect uploads, when offered.
   */
  uploadOrigins(): Promise<readonly string[]>;
}

/** The name the page gives a served repository itself. */
export const OWN_REPOSITORY = "the gateway's own repository";

export async function exampleTargets(sources: ExampleSources): Promise<ExampleTargets> {
  const clusters: ExampleTarget[] = [];
  const remotes: ExampleTarget[] = [];
  const own: ExampleTarget[] = [];
  let indirect = false;
  for (const { repo, gateway } of sources.served()) {
    own.push({
      kind: "repository",
      name: OWN_REPOSITORY,
      uuid: repo.uuid,
      nodes: [{ name: OWN_REPOSITORY, uuid: repo.uuid }],
    });
    if (gateway === null) continue;
    if (gateway.indirect !== undefined) indirect = true;
    const o = await gateway.overview();
    const names = new Map(o.nodes.map((n) => [n.uuid, n.name]));
    for (const c of o.clusters) {
      const nodes = c.nodes.map((uuid) => ({ name: names.get(uuid) ?? uuid, uuid }));
      clusters.push({ kind: "cluster", name: c.name, uuid: c.uuid, nodes });
    }
    for (const n of o.nodes) {
      const node = { name: n.name, uuid: n.uuid };
      remotes.push({ kind: "remote", ...node, nodes: [node] });
    }
  }
  remotes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { targets: [...clusters, ...remotes, ...own], indirect };
}
