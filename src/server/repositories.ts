/**
 * Which repositories a server serves, by UUID: one repository, or (like
 * `git annex p2phttp --directory`) every git-annex repository directly under
 * some folders, noticing new ones on a lookup miss and dropping ones that
 * have been removed, without a restart.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { type LocalRepository, openLocalRepository, type Peer } from "../peers/index.js";
import type { PeerDirectory } from "./http/server.js";

export interface RepositorySetOptions {
  readonly commitDelayMs?: number;
  readonly log?: (line: string) => void;
}

/** A fixed set of opened repositories. */
export class RepositorySet implements PeerDirectory {
  protected readonly byUuid = new Map<string, LocalRepository>();

  constructor(protected readonly opts: RepositorySetOptions = {}) {}

  async add(dir: string): Promise<LocalRepository> {
    const repo = await openLocalRepository(dir, {
      ...(this.opts.commitDelayMs !== undefined ? { commitDelayMs: this.opts.commitDelayMs } : {}),
      onCommitError: (e) =>
        this.opts.log?.(`commit of git-annex branch in ${dir} failed: ${String(e)}`),
    });
    this.byUuid.set(repo.uuid, repo);
    return repo;
  }

  async lookup(uuid: string): Promise<Peer | null> {
    return this.byUuid.get(uuid)?.peer ?? null;
  }

  repositories(): LocalRepository[] {
    return [...this.byUuid.values()];
  }

  async close(): Promise<void> {
    const all = [...this.byUuid.values()];
    this.byUuid.clear();
    await Promise.all(all.map((r) => r.close()));
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Every git-annex repository directly inside the given folders. */
export class RepositoryFolders extends RepositorySet {
  private scanning: Promise<void> | null = null;

  constructor(
    private readonly folders: readonly string[],
    opts: RepositorySetOptions = {},
  ) {
    super(opts);
  }

  /** Open repositories not yet served; drop those whose folder is gone. */
  rescan(): Promise<void> {
    this.scanning ??= this.scan().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async scan(): Promise<void> {
    const servedDirs = new Set([...this.byUuid.values()].map((r) => r.dir));
    for (const [uuid, repo] of this.byUuid) {
      if (!(await isDirectory(repo.dir))) {
        this.byUuid.delete(uuid);
        await repo.close().catch(() => undefined);
      }
    }
    for (const folder of this.folders) {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        const dir = join(folder, name);
        if (servedDirs.has(dir) || !(await isDirectory(dir))) continue;
        try {
          await this.add(dir);
        } catch {
          // not a git-annex repository (yet): looked at again on the next miss
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
    await this.rescan();
    return this.byUuid.get(uuid)?.peer ?? null;
  }
}
