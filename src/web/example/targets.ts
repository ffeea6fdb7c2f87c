/**
 * What the example page is told of the gateway (`example/targets.json`):
 * where it may upload, each with the repositories a copy may land in, by
 * name and UUID only (never a path or a host), and whether the gateway
 * offers indirect uploads. Read by the server and the page alike.
 */

/** A repository a copy may land in. */
export interface ExampleNode {
  readonly name: string;
  readonly uuid: string;
}

/** Where the page may upload: a cluster, a remote the gateway proxies for, or the gateway itself. */
export interface ExampleTarget {
  readonly kind: "cluster" | "remote" | "repository";
  readonly name: string;
  readonly uuid: string;
  /** The repositories a copy may land in: a cluster's nodes; else the target itself. */
  readonly nodes: readonly ExampleNode[];
}

export interface ExampleTargets {
  /** Clusters first, then the remotes, then the served repositories themselves. */
  readonly targets: readonly ExampleTarget[];
  /** Whether the gateway offers indirect uploads (--indirect-uploads). */
  readonly indirect: boolean;
}
