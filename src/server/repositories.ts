/**
 * Which repositories a server serves, by UUID: one repository, or (like
 * `git annex p2phttp --directory`) every git-annex repository directly under
 * some folders, noticing new ones on a lookup miss and dropping ones that
 * have been removed, without a restart.
 *
 * An entry of a folder that is a symlink to somewhere outside the folder is
 * not served unless asked for (followSymlinks): whoever can make a symlink
 * in a served folder could otherwise publish any repository the server can
 * read. Stock git-annex follows such symlinks.
 */
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { AnnexgateError } from "../errors.js";
import {
  type LocalRepository,
  type LocalRepositoryOptions,
  openLocalRepository,
  type Peer,
} from "../peers/index.js";
import type { GatewayOverview, NodeReachability } from "../proxy/index.js";
import { errorText } from "../util/index.js";
import type { IndirectUploadService, PeerDirectory } from "./http/options.js";

/** What a served repository also serves by UUID: the remotes and clusters it is a gateway for. */
export interface GatewayLike {
  lookup(uuid: string): Promise<Peer | null>;
  /** What it serves, with live sizes. */
  overview(): Promise<GatewayOverview>;
  /** Whether each repository behind it answers. */
  reachability(): Promise<NodeReachability[]>;
  /** Its indirect uploads (annexgate's extension), when it offers them. */
  readonly indirect?: IndirectUploadService | undefined;
  close(): Promise<void>;
}

/** How each served repository is opened (commit delay, log, reclaiming partial uploads), and: */
export interface RepositorySetOptions
  extends Pick<LocalRepositoryOptions, "commitDelayMs" | "logger" | "tmpReclaim"> {
  /** Makes a served repository a gateway; without it, only the repositories themselves are served. */
  readonly gateway?: (repo: LocalRepository) => GatewayLike;
}

/** A fixed set of opened repositories. */
export class RepositorySet implements PeerDirectory {
  protected readonly byUuid = new Map<string, LocalRepository>();
  readonly #gateways = new Map<string, GatewayLike>();

  constructor(protected readonly opts: RepositorySetOptions = {}) {}

  async add(dir: string): Promise<LocalRepository> {
    const repo = await openLocalRepository(dir, {
      ...(this.opts.commitDelayMs !== undefined ? { commitDelayMs: this.opts.commitDelayMs } : {}),
      ...(this.opts.tmpReclaim ? { tmpReclaim: this.opts.tmpReclaim } : {}),
      ...(this.opts.logger ? { logger: this.opts.logger } : {}),
      onCommitError: (e) =>
        this.opts.logger?.error(
          { repo: dir, err: errorText(e) },
          "commit of the git-annex branch failed",
        ),
    });
    // The same repository reached a second way (a symlink to it, say) is
    // served once; the second opening would otherwise be left open.
    const served = this.byUuid.get(repo.uuid);
    if (served) {
      await repo.close();
      return served;
    }
    this.byUuid.set(repo.uuid, repo);
    if (this.opts.gateway) this.#gateways.set(repo.uuid, this.opts.gateway(repo));
    return repo;
  }

  async lookup(uuid: string): Promise<Peer | null> {
    return this.byUuid.get(uuid)?.peer ?? this.throughGateways(uuid);
  }

  /** The indirect uploads of the gateway that serves `uuid`, when it offers them. */
  async indirectUploads(uuid: string): Promise<IndirectUploadService | null> {
    if (this.byUuid.has(uuid)) return this.#gateways.get(uuid)?.indirect ?? null;
    for (const [repoUuid, gateway] of this.#gateways) {
      if (!gateway.indirect || !this.byUuid.has(repoUuid)) continue;
      const peer = await gateway.lookup(uuid).catch(() => null);
      if (peer) return gateway.indirect;
    }
    return null;
  }

  /** Each served repository with its gateway (when it is made one). */
  served(): { readonly repo: LocalRepository; readonly gateway: GatewayLike | null }[] {
    return [...this.byUuid.values()].map((repo) => ({
      repo,
      gateway: this.#gateways.get(repo.uuid) ?? null,
    }));
  }

  /** A UUID no served repository has may be one a served repository proxies for. */
  protected async throughGateways(uuid: string): Promise<Peer | null> {
    for (const [repoUuid, gateway] of this.#gateways) {
      if (!this.byUuid.has(repoUuid)) continue;
      try {
        const peer = await gateway.lookup(uuid);
        if (peer) return peer;
      } catch (e) {
        // One repository whose configuration cannot be read must not stop
        // the others (or the pick-up of new repositories) from serving.
        this.opts.logger?.error(
          { repo: this.byUuid.get(repoUuid)?.dir, err: errorText(e) },
          "the gateway's configuration cannot be read",
        );
      }
    }
    return null;
  }

  /** Stop serving a repository (and what it is a gateway for). */
  protected async drop(uuid: string): Promise<void> {
    const repo = this.byUuid.get(uuid);
    const gateway = this.#gateways.get(uuid);
    this.byUuid.delete(uuid);
    this.#gateways.delete(uuid);
    await gateway?.close().catch(() => undefined);
    await repo?.close().catch(() => undefined);
  }

  repositories(): LocalRepository[] {
    return [...this.byUuid.values()];
  }

  async close(): Promise<void> {
    const gateways = [...this.#gateways.values()];
    this.#gateways.clear();
    await Promise.all(gateways.map((g) => g.close()));
    const all = [...this.byUuid.values()];
    this.byUuid.clear();
    await Promise.all(all.map((r) => r.close()));
  }
}

/** A path that is not there (or runs through a file): expected while scanning. */
function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * True when opening `dir` failed because it is not a git-annex repository
 * (not git at all, or without annex.uuid); anything else is a real failure.
 */
export function isNotARepository(e: unknown): boolean {
  if (!(e instanceof AnnexgateError)) return false;
  // git itself ran and said no (rev-parse outside a repository exits 128).
  return (
    e.code === "AG_NOT_ANNEX_REPO" || (e.code === "AG_GIT" && typeof e.data.exitCode === "number")
  );
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

export interface RepositoryFoldersOptions extends RepositorySetOptions {
  /** Serve an entry that is a symlink to outside its folder (as stock git-annex does). Default false. */
  readonly followSymlinks?: boolean;
}

/** True when `p` is `folder` or inside it (both real paths). */
function inside(folder: string, p: string): boolean {
  const rel = relative(folder, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Every git-annex repository directly inside the given folders. */
export class RepositoryFolders extends RepositorySet {
  #scanning: Promise<void> | null = null;
  /** Symlinked entries refused, with the target they had, so each is logged once. */
  readonly #refused = new Map<string, string>();

  readonly #folders: readonly string[];
  readonly #folderOpts: RepositoryFoldersOptions;
  constructor(folders: readonly string[], folderOpts: RepositoryFoldersOptions = {}) {
    super(folderOpts);
    this.#folders = folders;
    this.#folderOpts = folderOpts;
  }

  /**
   * The directory to open for an entry of `folder`: the entry itself, or,
   * for a symlink, its target (resolved now, so a symlink changed later
   * does not change what is served); null when it is not to be served.
   */
  async #entryDir(folder: string, name: string): Promise<string | null> {
    const dir = join(folder, name);
    let real: string;
    let realFolder: string;
    try {
      if (!(await lstat(dir)).isSymbolicLink()) return (await isDirectory(dir)) ? dir : null;
      real = await realpath(dir);
      realFolder = await realpath(folder);
    } catch {
      return null; // gone, or a dangling symlink
    }
    if (!(await isDirectory(real))) return null;
    if (this.#folderOpts.followSymlinks || inside(realFolder, real)) return real;
    if (this.#refused.get(dir) !== real) {
      this.#refused.set(dir, real);
      this.opts.logger?.warn(
        { repo: dir, target: real, folder },
        `not serving ${dir}: it is a symlink to ${real}, outside ${folder} (--follow-symlinks serves it)`,
      );
    }
    return null;
  }

  /** Open repositories not yet served; drop those whose folder is gone. */
  rescan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = null;
    });
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const servedDirs = new Set([...this.byUuid.values()].map((r) => r.dir));
    for (const [uuid, repo] of this.byUuid) {
      if (!(await isDirectory(repo.dir))) await this.drop(uuid);
    }
    for (const folder of this.#folders) {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch (e) {
        if (isMissing(e)) continue; // a folder that is not there (yet) serves nothing
        throw e;
      }
      for (const name of names.sort()) {
        const dir = await this.#entryDir(folder, name);
        if (dir === null || servedDirs.has(dir)) continue;
        try {
          await this.add(dir);
        } catch (e) {
          // not a git-annex repository (yet): looked at again on the next miss
          if (!isNotARepository(e)) throw e;
        }
      }
    }
  }

  override async lookup(uuid: string): Promise<Peer | null> {
    const known = this.byUuid.get(uuid);
    if (known) {
      if (await isDirectory(known.dir)) return known.peer;
      await this.rescan();
      return null;
    }
    const proxied = await this.throughGateways(uuid);
    if (proxied) return proxied;
    await this.rescan();
    return this.byUuid.get(uuid)?.peer ?? this.throughGateways(uuid);
  }
}
