/**
 * A directory special remote addressed by path, as an export remote
 * keeps files (Remote/Directory.hs export actions), so stock git-annex
 * reads what annexgate wrote and the reverse:
 * - a file is `<dir>/<path>`;
 * - a store writes a temporary file beside it (`<name>.tmp…`, as stock's
 *   viaTmp does, never under `<dir>/tmp`, which an exported tree may
 *   use), synced, then renamed into place;
 * - a removal deletes the file, then its emptied parent directories up
 *   to, not including, the top (removeExportLocation);
 * - a rename is a rename(2) into place (its directories made first),
 *   then the source's emptied directories go (renameExportM).
 * The caller checks each path is safe (relative, no "." or ".."). A
 * missing top directory (an unmounted drive) fails as unreachable.
 * Errors name no path of this machine.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { PathStorage, StagedObject, StoredObject } from "../special/storage.js";
import { isAbsent, streamFrom, syncDir } from "./file-io.js";
import { FileSink } from "./file-sink.js";
import { errnoOf, fsFailure, notAccessible } from "./fs-failure.js";

export interface DirectoryPathsOptions {
  /** Refuses a store of `size` bytes that would leave too little free space (throws). */
  readonly checkSpace?: (size: number | undefined) => Promise<void>;
}

export class DirectoryPaths implements PathStorage {
  readonly #dir: string;
  readonly #checkSpace: (size: number | undefined) => Promise<void>;

  /** @param dir the remote's directory, absolute */
  constructor(dir: string, opts: DirectoryPathsOptions = {}) {
    this.#dir = resolve(dir);
    this.#checkSpace = opts.checkSpace ?? (async () => undefined);
  }

  #full(path: string): string {
    const full = join(this.#dir, path);
    // The caller checked the path; this keeps a slip from leaving the top.
    if (!full.startsWith(`${this.#dir}/`))
      throw fsFailure("addressing a file", new Error("bad path"));
    return full;
  }

  async #checkTop(): Promise<void> {
    try {
      if ((await stat(this.#dir)).isDirectory()) return;
    } catch (e) {
      if (!isAbsent(e)) throw fsFailure("checking the directory", e);
    }
    throw notAccessible();
  }

  async has(path: string): Promise<boolean> {
    try {
      return (await stat(this.#full(path))).isFile();
    } catch (e) {
      if (!isAbsent(e)) throw fsFailure("looking for a file", e);
    }
    await this.#checkTop();
    return false;
  }

  async read(path: string, offset: number): Promise<StoredObject | null> {
    let fh: FileHandle;
    try {
      fh = await open(this.#full(path), "r");
    } catch (e) {
      if (!isAbsent(e) && errnoOf(e) !== "EISDIR") throw fsFailure("opening a file", e);
      await this.#checkTop();
      return null;
    }
    return streamFrom(fh, offset, "opening a file");
  }

  async stage(path: string, opts: { size?: number } = {}): Promise<StagedObject> {
    await this.#checkTop();
    await this.#checkSpace(opts.size);
    const dest = this.#full(path);
    const tmp = join(dirname(dest), `${basename(dest)}.tmp${randomBytes(6).toString("hex")}`);
    let fh: FileHandle | undefined;
    try {
      await mkdir(dirname(dest), { recursive: true });
      fh = await open(tmp, "wx");
    } catch (e) {
      await fh?.close();
      throw fsFailure("starting the upload", e);
    }
    return new StagedFile(tmp, dest, new FileSink(fh, 0));
  }

  async remove(path: string): Promise<void> {
    await this.#checkTop();
    const full = this.#full(path);
    try {
      await rm(full, { force: true });
    } catch (e) {
      throw fsFailure("removing a file", e);
    }
    await this.#removeEmptyParents(full);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.#checkTop();
    const src = this.#full(from);
    const dest = this.#full(to);
    try {
      await mkdir(dirname(dest), { recursive: true });
      await rename(src, dest);
    } catch (e) {
      throw fsFailure("renaming a file", e);
    }
    await syncDir(dirname(dest)).catch(() => undefined);
    await this.#removeEmptyParents(src);
  }

  /** Removes the directories of `full` that are empty, up to, not including, the top. */
  async #removeEmptyParents(full: string): Promise<void> {
    let dir = dirname(full);
    while (dir.startsWith(`${this.#dir}/`)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }
}

class StagedFile implements StagedObject {
  constructor(
    private readonly tmp: string,
    private readonly dest: string,
    readonly sink: FileSink,
  ) {}

  async publish(): Promise<void> {
    if (!this.sink.writableFinished) throw new Error("publish before the staged file was ended");
    try {
      await rename(this.tmp, this.dest);
    } catch (e) {
      await rm(this.tmp, { force: true }).catch(() => undefined);
      throw fsFailure("publishing a file", e);
    }
    // Visible now: a failed sync must not report it as not stored.
    await syncDir(dirname(this.dest)).catch(() => undefined);
  }

  async discard(): Promise<void> {
    if (!this.sink.destroyed) {
      const closed = new Promise<void>((resolve) => this.sink.once("close", () => resolve()));
      this.sink.destroy();
      await closed;
    }
    try {
      await rm(this.tmp, { force: true });
    } catch (e) {
      throw fsFailure("discarding a partial upload", e);
    }
  }
}
