/**
 * A directory special remote's storage, in git-annex's layout
 * (Remote/Directory.hs), so stock git-annex enabling the same remote reads
 * what annexgate wrote and the reverse:
 * - an object is `<dir>/<hashdirlower>/<keyFile>/<keyFile>`; it is looked
 *   for there, then under the mixed-case hash directory older git-annex
 *   wrote (Annex/Locations.hs keyPaths);
 * - a store writes `<dir>/tmp/<keyFile>/<keyFile>`, then renames that key
 *   directory into place and takes the write bits off the file and the
 *   key directory (finalizeStoreGeneric). annexgate also syncs the file
 *   and the directories it renamed in and out of, which stock does not;
 * - a removal deletes the key directory and then its emptied hash
 *   directories (removeDirGeneric). Stock removes only the lower-case
 *   location; annexgate removes the mixed-case one too, or the object
 *   would still be present after a drop.
 *
 * The partial file in `tmp/` is what a resumed store continues; one
 * writer at a time stages a key (staging-claim.ts). A missing
 * top directory (an unmounted drive) makes every operation fail as
 * unreachable, never answer "absent". Errors name no path of this machine.
 */
import { createReadStream } from "node:fs";
import {
  chmod,
  type FileHandle,
  mkdir,
  open,
  rename,
  rm,
  rmdir,
  stat,
  statfs,
} from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { hashDirLower, hashDirMixed, keyFile, parseKey } from "../../keys/index.js";
import type { FcntlLocks } from "../../locks/index.js";
import { roughSize } from "../../sizes/index.js";
import { PeerRefusedError } from "../peer.js";
import type { SpecialStorage, StagedObject, StoredObject } from "../special/storage.js";
import { DirectoryPaths } from "./directory-paths.js";
import { CHUNK, isAbsent, streamFrom, syncDir } from "./file-io.js";
import { FileSink } from "./file-sink.js";
import { errnoOf, fsFailure, notAccessible } from "./fs-failure.js";
import { claimStaging, type StagingClaim } from "./staging-claim.js";

/** git-annex's default `annex.diskreserve`: 100 megabytes kept free. */
export const DEFAULT_DISK_RESERVE = 100_000_000n;

export interface DirectoryStorageOptions {
  /**
   * Bytes a store must leave free on the directory's file system
   * (`annex.diskreserve`, which stock checks before it stores there too).
   */
  readonly diskReserve?: bigint;
  /** Where cross-process staging locks are taken (default: the process's helper). */
  readonly locks?: FcntlLocks;
}

/** The mode with the write bits off (Utility/FileMode.hs preventWrite). */
async function preventWrite(path: string): Promise<void> {
  const { mode } = await stat(path);
  await chmod(path, mode & 0o7555);
}

export class DirectoryStorage implements SpecialStorage {
  private readonly dir: string;
  private readonly diskReserve: bigint;
  private readonly locks: FcntlLocks | undefined;
  /** The same directory addressed by path, as an export remote keeps files. */
  readonly byPath: DirectoryPaths;

  /** @param dir the remote's directory (`remote.NAME.annex-directory`), absolute */
  constructor(dir: string, opts: DirectoryStorageOptions = {}) {
    // Normalized, so that tidying emptied directories stops at it exactly.
    this.dir = resolve(dir);
    this.diskReserve = opts.diskReserve ?? DEFAULT_DISK_RESERVE;
    this.locks = opts.locks;
    this.byPath = new DirectoryPaths(this.dir, {
      checkSpace: (size) => this.checkDiskSpace(size, 0),
    });
  }

  /** Where the object may be, git-annex's own location first. */
  private locations(name: string): string[] {
    const key = parseKey(name);
    const file = keyFile(key);
    return [hashDirLower(key), hashDirMixed(key)].map((h) => join(this.dir, h, file, file));
  }

  private tmpFile(name: string): string {
    const file = keyFile(parseKey(name));
    return join(this.dir, "tmp", file, file);
  }

  /** Fails as unreachable when the remote's directory is not there (stock: "not accessible"). */
  private async checkTop(): Promise<void> {
    try {
      if ((await stat(this.dir)).isDirectory()) return;
    } catch (e) {
      if (!isAbsent(e)) throw fsFailure("checking the directory", e);
    }
    throw notAccessible();
  }

  /** The first location holding the object, or null. */
  private async find(name: string): Promise<string | null> {
    for (const path of this.locations(name)) {
      try {
        if (!(await stat(path)).isDirectory()) return path;
      } catch (e) {
        if (!isAbsent(e)) throw fsFailure("looking for the object", e);
      }
    }
    await this.checkTop();
    return null;
  }

  async has(name: string): Promise<boolean> {
    return (await this.find(name)) !== null;
  }

  async read(name: string, offset: number): Promise<StoredObject | null> {
    const path = await this.find(name);
    if (path === null) return null;
    let fh: FileHandle;
    try {
      fh = await open(path, "r");
    } catch (e) {
      // Removed between the lookup and the open.
      if (isAbsent(e)) return null;
      throw fsFailure("opening the object", e);
    }
    return streamFrom(fh, offset, "opening the object");
  }

  async stagedLength(name: string): Promise<number> {
    try {
      return (await stat(this.tmpFile(name))).size;
    } catch (e) {
      if (isAbsent(e)) return 0;
      throw fsFailure("looking for a partial upload", e);
    }
  }

  async stage(name: string, opts: { resumeFrom?: number } = {}): Promise<StagedObject> {
    await this.checkTop();
    const tmp = this.tmpFile(name);
    const from = opts.resumeFrom ?? 0;
    await this.checkDiskSpace(parseKey(name).size, from);
    try {
      await mkdir(join(this.dir, "tmp"), { recursive: true });
    } catch (e) {
      throw fsFailure("starting the upload", e);
    }
    const claim = await claimStaging(`${dirname(tmp)}.lck`, this.locks);
    let fh: FileHandle | undefined;
    try {
      await mkdir(dirname(tmp), { recursive: true });
      fh = await open(tmp, from > 0 ? "r+" : "w");
      if (from > 0) await fh.truncate(from);
    } catch (e) {
      await fh?.close();
      await claim.release();
      throw fsFailure(from > 0 ? "resuming the upload" : "starting the upload", e);
    }
    const dest = this.locations(name)[0] as string;
    return new DirectoryStagedObject(tmp, dest, fh, from, claim);
  }

  /**
   * Refuse a store that would leave less than the reserve free, as stock
   * does before it stores (Remote/Directory.hs storeKeyM, checkDiskSpace:
   * the key's size, or 1 byte when unknown). The bytes a resume keeps are
   * already on the disk, so they are not asked for again.
   */
  private async checkDiskSpace(size: number | undefined, kept: number): Promise<void> {
    let have: bigint;
    try {
      const fs = await statfs(this.dir, { bigint: true });
      have = fs.bavail * fs.bsize;
    } catch {
      return; // stock stores when it cannot tell the free space either
    }
    const delta = BigInt(size ?? 1) - BigInt(kept) + this.diskReserve - have;
    if (delta > 0n) {
      throw new PeerRefusedError(
        `Not enough free disk space: need ${roughSize(delta)} more (annex.diskreserve is ${roughSize(this.diskReserve)})`,
        { need: Number(delta) },
      );
    }
  }

  async remove(name: string): Promise<void> {
    await this.checkTop();
    for (const path of this.locations(name)) {
      const keyDir = dirname(path);
      try {
        // The key directory is write-protected; its owner may lift that.
        await chmod(keyDir, 0o755);
      } catch (e) {
        if (isAbsent(e)) continue;
        throw fsFailure("removing the object", e);
      }
      try {
        await rm(keyDir, { recursive: true, force: true });
      } catch (e) {
        throw fsFailure("removing the object", e);
      }
      await removeEmptyParents(this.dir, dirname(keyDir));
    }
  }

  async close(): Promise<void> {}
}

/** Remove emptied directories from `from` up to, not including, `top`; failures end it quietly. */
async function removeEmptyParents(top: string, from: string): Promise<void> {
  let dir = from;
  while (dir.startsWith(`${top}/`)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}

class DirectoryStagedObject implements StagedObject {
  readonly sink: FileSink;

  constructor(
    private readonly tmpFile: string,
    private readonly dest: string,
    fh: FileHandle,
    private readonly kept: number,
    private readonly claim: StagingClaim,
  ) {
    this.sink = new FileSink(fh, kept);
  }

  readKept(): Readable {
    if (this.kept === 0) return Readable.from([]);
    return createReadStream(this.tmpFile, { start: 0, end: this.kept - 1, highWaterMark: CHUNK });
  }

  /** Rename the key directory from tmp into place, then write-protect it, as stock finalizes. */
  async publish(): Promise<void> {
    try {
      await this.finalize();
    } finally {
      await this.claim.release();
    }
  }

  private async finalize(): Promise<void> {
    if (!this.sink.writableFinished) throw new Error("publish before the staged object was ended");
    const tmpDir = dirname(this.tmpFile);
    const destDir = dirname(this.dest);
    try {
      await mkdir(dirname(destDir), { recursive: true });
      try {
        await rename(tmpDir, destDir);
      } catch (e) {
        const code = errnoOf(e);
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
        // Stock replaces what is there; it is this key's content either way.
        await chmod(destDir, 0o755);
        await rm(destDir, { recursive: true, force: true });
        await rename(tmpDir, destDir);
      }
    } catch (e) {
      throw fsFailure("publishing the object", e);
    }
    // The object is visible now: what follows is best effort, as in stock
    // ("may fail on some filesystems"), and a failure must not report a
    // stored object as not stored.
    await preventWrite(this.dest).catch(() => undefined);
    await preventWrite(destDir).catch(() => undefined);
    await syncDir(dirname(destDir)).catch(() => undefined);
    await syncDir(dirname(tmpDir)).catch(() => undefined);
  }

  async discard(opts: { keep?: boolean } = {}): Promise<void> {
    if (!this.sink.destroyed) {
      const closed = new Promise<void>((resolve) => this.sink.once("close", () => resolve()));
      this.sink.destroy();
      await closed;
    }
    try {
      if (opts.keep !== true) await rm(dirname(this.tmpFile), { recursive: true, force: true });
    } catch (e) {
      throw fsFailure("discarding a partial upload", e);
    } finally {
      await this.claim.release();
    }
  }
}
