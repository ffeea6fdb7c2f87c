/**
 * The shapes of a repository's remotes and of what its gateway serves, as
 * git-annex derives them from git config and the git-annex branch
 * (Remote/Git.hs, Annex/Proxy.hs, Annex/Cluster.hs). Plain data: the proxy
 * layer turns them into Peers, the CLI prints them.
 */

/** How a remote is reached. A proxied remote is reached the way its proxy is. */
export type RemoteTransport =
  /** A git repository on this machine (`remote.NAME.url` is a path or file:// URL). */
  | { readonly kind: "local"; readonly path: string }
  /** `git-annex-shell p2pstdio` over ssh (`ssh://[user@]host[:port]/path` or `[user@]host:path`). */
  | {
      readonly kind: "ssh";
      /** `user@host` or `host`, as given to ssh. */
      readonly host: string;
      readonly port?: number;
      /** The repository path on the far side, as git-annex-shell gets it. */
      readonly path: string;
    }
  /** The p2phttp API (`remote.NAME.annexurl`, an annex+http(s) URL). */
  | { readonly kind: "p2phttp"; readonly url: string }
  /** A directory special remote (`type=directory`): objects under `remote.NAME.annex-directory`. */
  | {
      readonly kind: "directory";
      readonly directory: string;
      readonly special: SpecialRemoteConfig;
    }
  /** An S3 special remote (`type=S3`), S3-compatible stores included. */
  | { readonly kind: "S3"; readonly special: SpecialRemoteConfig }
  /** Other special remotes, and anything else annexgate cannot reach yet. */
  | { readonly kind: "unsupported"; readonly reason: string };

/**
 * A special remote's settings as git-annex finds them: the remote.log
 * fields of its config UUID (type, name, encryption, chunk, bucket, ...,
 * with `timestamp` left out), and the `remote.NAME.annex-*` git config that
 * git-annex keeps out of remote.log (for example `directory`), without the
 * `annex-` prefix.
 */
export interface SpecialRemoteConfig {
  readonly fields: Readonly<Record<string, string>>;
  readonly gitConfig: Readonly<Record<string, string>>;
}

export interface Remote {
  /** Git remote name; a proxied remote is `PROXYNAME-NAME`, as git-annex names it. */
  readonly name: string;
  readonly uuid: string;
  /**
   * `remote.NAME.annex-cost`, else git-annex's default: 100 local, 200
   * otherwise, +0.1 for a proxied cluster node; for a special remote
   * remote.log's `cost=`, else its type's (directory 100, S3 200), +50
   * when encrypted.
   */
  readonly cost: number;
  readonly transport: RemoteTransport;
  /** `remote.NAME.annex-proxy`. */
  readonly proxy: boolean;
  /** `remote.NAME.annex-cluster-node`: names of clusters this remote is a node of. */
  readonly clusterNode: readonly string[];
  /** `remote.NAME.annex-cluster-gateway`: cluster UUIDs this remote is a gateway of. */
  readonly clusterGateway: readonly string[];
  /** For a remote derived from proxy.log: the UUID of the remote that proxies it. */
  readonly proxiedBy: string | null;
  /** `remote.NAME.annex-ignore`. */
  readonly ignore: boolean;
  /** A special remote's settings, whether annexgate can reach it or not; absent for git remotes. */
  readonly special?: SpecialRemoteConfig;
}

/** An entry of proxy.log: a remote a repository proxies for, by UUID and name. */
export interface ProxyEntry {
  readonly uuid: string;
  readonly name: string;
}

/** Everything the gateway needs to decide what it serves. */
export interface GatewayConfig {
  /** This repository's UUID. */
  readonly uuid: string;
  /** `annex.cluster.NAME` → cluster UUID: clusters this repository is a gateway of. */
  readonly clusters: ReadonlyMap<string, string>;
  /** proxy.log, current values, every repository's. */
  readonly proxies: ReadonlyMap<string, readonly ProxyEntry[]>;
  /** cluster.log: cluster UUID → node UUIDs (dead nodes removed). */
  readonly clusterNodes: ReadonlyMap<string, ReadonlySet<string>>;
  /** All remotes, proxied ones included, lowest cost first (git-annex's byCost order). */
  readonly remotes: readonly Remote[];
}

/** What a request for one UUID goes to. */
export type Route =
  | { readonly kind: "self" }
  | { readonly kind: "proxied"; readonly remote: Remote }
  | { readonly kind: "cluster"; readonly clusterUuid: string };
