/**
 * What the remotes layer's tests share: fresh git repositories with given
 * git config, in one temporary folder per test file, the gateway config
 * read from them, and a remote found by name.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";
import { remoteConfigsFromLog } from "../branch/index.js";
import { Git, GitConfigValues } from "../git/index.js";
import { gatewayConfigFrom } from "./load.js";
import type { GatewayConfig, ProxyEntry, Remote } from "./types.js";

const exec = promisify(execFile);

export interface ConfigRepos {
  /** The folder the repositories are made in, each as `<root>/r<n>`. */
  readonly root: string;
  /** A fresh repository whose config is set with `git config --add`, one call per pair. */
  repo(settings: readonly [string, string][]): Promise<Git>;
  /** The gateway config of a fresh repository with these settings, proxy.log, cluster.log and remote.log. */
  configOf(
    settings: readonly [string, string][],
    proxies?: ReadonlyMap<string, readonly ProxyEntry[]>,
    clusters?: ReadonlyMap<string, ReadonlySet<string>>,
    remoteLog?: string,
  ): Promise<GatewayConfig>;
}

/** Registers the folder's hooks (call it at the top level of a test file). */
export function configRepos(prefix: string): ConfigRepos {
  let root: string | undefined;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });
  const repos: ConfigRepos = {
    get root(): string {
      if (root === undefined) throw new Error("configRepos: used before its before() hook ran");
      return root;
    },
    async repo(settings) {
      n += 1;
      const dir = join(repos.root, `r${n}`);
      await exec("git", ["init", "-q", dir]);
      for (const [k, v] of settings) await exec("git", ["-C", dir, "config", "--add", k, v]);
      return Git.open(dir);
    },
    async configOf(settings, proxies = new Map(), clusters = new Map(), remoteLog = "") {
      const git = await repos.repo(settings);
      const config = await GitConfigValues.read(git);
      const remoteConfigs = remoteConfigsFromLog(remoteLog);
      return gatewayConfigFrom(config, git.dir, proxies, clusters, remoteConfigs);
    },
  };
  return repos;
}

/** The remote called `name`; fails the test when there is none. */
export function named(cfg: GatewayConfig, name: string): Remote {
  const r = cfg.remotes.find((x) => x.name === name);
  assert.ok(r, `no remote ${name} in ${cfg.remotes.map((x) => x.name).join(",")}`);
  return r;
}
