// Over 400 lines: receive, adopt, move into place and remove share the store's per-key locks and layout.
/**
 * An object store: content kept as files under a layout (a repository's
 * `annex/objects` and `annex/tmp`, or another place to keep objects),
 * uploads received into a temp file (resumable from the size already
 * there), verified against their key, then renamed into place with the
 * read-only permissions git-annex gives content.
 *
 * It knows files and keys, never the git-annex branch: callers record
 * location changes themselves. Only a file that is not there is an answer
 * ("absent"); any other failure of the disk is thrown as an
 * ObjectStoreError, never reported as absent, removed or aborted.
 */
import { createReadStream, statSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { chmod, open, readdir, rename, rm, rmdir, stat, truncate } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { type Key, keyFile, type ReceiveVerification, receiveVerification } from "../keys/index.js";
import { type FcntlLocks, processFcntlLocks } from "../locks/index.js";
import type { CopyOutcome } from "../util/index.js";
import { BatchedFileWriter } from "./batched-writer.js";
import {
  type AnnexContentLockFiles,
  processContentLockFiles,
  type SharedContentLock,
} from "./content-lockfiles.js";
import { copyUpload } from "./copy-upload.js";
import { ensureDir } from "./dirs.js";
import { withDownloadLock } from "./download-lock.js";
import { errnoCode, ObjectStoreError, storeFailure } from "./errors.js";
import { type ObjectLayout, objectFileIn, tmpFileIn } from "./layout.js";
import { countedKeyMutex } from "./lock-counts.js";
import { ObjectFileStream } from "./object-stream.js";

/** Why a receive did not store the content. */
export type ReceiveFailure =
  | "short" // fewer bytes than promised: the temp file is kept for a resume
  | "long" // more bytes than promised: discarded
  | "mismatch" // content does not match the key: discarded
  | "bad-offset" // the sender resumed from an offset the temp file cannot support
  | "aborted" // the sender went away: the temp file is kept for a resume
  | "busy" // another upload of the key went on too long to wait for: nothing touched
  | "unverifiable" // a key git-annex would check and annexgate cannot (receiveVerification)
  | "name-too-long"; // the key's file name is longer than the file system takes

export type ReceiveResult = { ok: true } | { ok: false; reason: ReceiveFailure };

const NO_VERIFICATION: ReceiveVerification = { kind: "none" };

/** How long an upload waits for another upload of the same key to finish. */
const RECEIVE_WAIT_MS = 5000;
const BUSY: ReceiveResult = { ok: false, reason: "busy" };

/** Chunk size for reading objects and temp files; bounds memory per transfer. */
const CHUNK = 256 * 1024;

/**
 * Whether a failed lookup means the file is not there. A name too long for
 * the file system (a long WORM key) cannot be there either; a path
 * component that is a file (ENOTDIR), a refused permission or an I/O error
 * are failures, not answers.
 */
function isAbsent(e: unknown): boolean {
  const code = errnoCode(e);
  return code === "ENOENT" || code === "ENAMETOOLONG";
}

/** The process's turns on temp files, by path (see ObjectStore.keyLocks). */
const TMP_TURNS = countedKeyMutex();

/** The temp file opened for writing, or null when its name is too long for the disk. */
async function openTmp(tmp: string, flags: "w" | "r+"): Promise<FileHandle | null> {
  try {
    return await open(tmp, flags);
  } catch (e) {
    if (errnoCode(e) === "ENAMETOOLONG") return null;
    throw e;
  }
}

export class ObjectStore {
  /**
   * Serializes work on one key (two uploads of one key share a temp file),
   * by the temp file's path and for the whole process: two stores over one
   * repository (served, and a node of a gateway served beside it) share it.
   */
  readonly #keyLocks = TMP_TURNS;
  /** Told whenever a receive starts a new temp file or leaves one behind (the reclaimer's cue). */
  readonly #partialWatchers = new Set<() => void>();

  /**
   * @param layout where objects and temp files live
   * @param lockFiles content locks shared with git-annex (the process's own)
   * @param fcntl where git-annex's download locks are taken (the process's helper)
   */
  readonly #lockFiles: AnnexContentLockFiles;
  readonly #fcntl: FcntlLocks;

  constructor(
    readonly layout: ObjectLayout,
    lockFiles: AnnexContentLockFiles = processContentLockFiles(),
    fcntl: FcntlLocks = processFcntlLocks(),
  ) {
    this.#lockFiles = lockFiles;
    this.#fcntl = fcntl;
  }

  /** The layout's home must still be there before anything is created in it. */
  async #checkHome(): Promise<void> {
    const home = this.layout.home;
    try {
      if ((await stat(home)).isDirectory()) return;
    } catch (e) {
      const code = errnoCode(e);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        throw storeFailure("checking the object store's directory", e, home);
      }
    }
    throw new ObjectStoreError("the object store's directory is gone", { path: home });
  }

  objectFile(key: Key): string {
    return objectFileIn(this.layout, key);
  }

  tmpFile(key: Key): string {
    return tmpFileIn(this.layout, key);
  }

  /**
   * Size of the content, or null when it is not present.
   *
   * A synchronous stat: on the repository's own disk it takes about 2 µs,
   * and fs.promises' round trip through the thread pool about 20 µs of CPU,
   * which was the largest part of a checkpresent request. (A store on a
   * disk that hangs stops the server either way: every request touches it.)
   */
  async size(key: Key): Promise<number | null> {
    const file = this.objectFile(key);
    try {
      const st = statSync(file, { throwIfNoEntry: false });
      return st?.isFile() ? st.size : null;
    } catch (e) {
      if (isAbsent(e)) return null;
      throw storeFailure("looking for the content", e, file);
    }
  }

  async has(key: Key): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  /** How much of an interrupted upload is already here (the resume offset). */
  async tmpSize(key: Key): Promise<number> {
    const tmp = this.tmpFile(key);
    try {
      return (await stat(tmp)).size;
    } catch (e) {
      if (isAbsent(e)) return 0;
      throw storeFailure("looking for a partial upload", e, tmp);
    }
  }

  /**
   * Be told each time a receive starts a new temp file, and each time one
   * ends leaving its temp file for a resume (then no longer in use);
   * returns how to stop.
   */
  watchPartials(watcher: () => void): () => void {
    this.#partialWatchers.add(watcher);
    return () => this.#partialWatchers.delete(watcher);
  }

  #partialsChanged(): void {
    for (const watcher of this.#partialWatchers) watcher();
  }

  /** True while a receive, adoption or removal runs or waits on the temp file named `tmpName`. */
  tmpInUse(tmpName: string): boolean {
    return this.#keyLocks.busy(join(this.layout.tmpDir, tmpName));
  }

  /**
   * Run `fn` on the temp file named `tmpName` unless its key is in use
   * (null then, at once: never waits behind a long upload); no receive of
   * the key starts until `fn` is done.
   */
  whileTmpIdle<T>(tmpName: string, fn: () => Promise<T>): Promise<T | null> {
    const tmp = join(this.layout.tmpDir, tmpName);
    if (this.#keyLocks.busy(tmp)) return Promise.resolve(null);
    return this.#keyLocks.run(tmp, fn);
  }

  /** Run `fn` while no other receive or removal of this key runs. */
  exclusive<T>(key: Key, fn: () => Promise<T>): Promise<T> {
    return this.#keyLocks.run(this.tmpFile(key), fn);
  }

  /**
   * Receive `length` bytes of content starting at `offset` into the temp
   * file, then verify and move into place. The bytes before `offset` must
   * already be in the temp file (a resumed upload). A failure of the
   * sender is a result ("aborted", "short"); a failure of the disk is
   * thrown as an ObjectStoreError.
   */
  receive(
    key: Key,
    offset: number,
    length: number,
    data: Readable,
    signal?: AbortSignal,
    checkedBySender?: Promise<boolean>,
  ): Promise<ReceiveResult> {
    // Two uploads of one key take turns on its temp file, but a second one
    // does not wait long: git-annex refuses it at once, and two cluster
    // fan-outs reaching two nodes in opposite orders would otherwise each
    // wait, for good, for the other to finish.
    return this.#keyLocks
      .runWithin(this.tmpFile(key), RECEIVE_WAIT_MS, BUSY, () =>
        // Another process (stock git-annex, another annexgate) receiving
        // the key holds git-annex's download lock: busy, as stock answers.
        withDownloadLock(this.#fcntl, this.layout.transferDir, keyFile(key), BUSY, () =>
          this.#receiveLocked(key, offset, length, data, signal, checkedBySender),
        ).catch((e) => {
          throw storeFailure("receiving the content", e, this.tmpFile(key));
        }),
      )
      .then((r) => {
        if (r === BUSY) data.resume();
        // Told once the key's turn is over, so that the file left is no longer in use.
        else if (!r.ok && (r.reason === "aborted" || r.reason === "short")) this.#partialsChanged();
        return r;
      });
  }

  async #receiveLocked(
    ...[key, offset, length, data, signal, checkedBySender]: Parameters<ObjectStore["receive"]>
  ): Promise<ReceiveResult> {
    // A check by the sender covers the content only when all of it comes
    // in this upload; a resumed one is hashed here, from the disk.
    const senderChecks = checkedBySender !== undefined && offset === 0;
    const verification = senderChecks ? NO_VERIFICATION : receiveVerification(key);
    if (verification.kind === "refuse") {
      data.resume();
      return { ok: false, reason: "unverifiable" };
    }
    if (await this.has(key)) {
      // Already here: drain what the sender sends, as the protocol expects.
      data.resume();
      return { ok: true };
    }
    const tmp = this.tmpFile(key);
    await this.#checkHome();
    await ensureDir(dirname(tmp));
    const have = await this.tmpSize(key);
    if (offset > have) {
      data.resume();
      return { ok: false, reason: "bad-offset" };
    }
    const verifier = verification.kind === "hash" ? verification.create() : null;
    const fh = await openTmp(tmp, have === 0 ? "w" : "r+");
    if (fh === null) {
      // A key whose file name the disk cannot hold (a WORM key of a very
      // long file name) can never be stored here: a refusal, not a failure.
      data.resume();
      return { ok: false, reason: "name-too-long" };
    }
    if (have === 0) this.#partialsChanged();
    let t: CopyOutcome;
    try {
      if (have > offset) await fh.truncate(offset);
      if (verifier && offset > 0) {
        // Resuming: the digest must cover the bytes already on disk.
        const buf = Buffer.allocUnsafe(CHUNK);
        let pos = 0;
        while (pos < offset) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, offset - pos), pos);
          if (bytesRead === 0) break;
          verifier.update(buf.subarray(0, bytesRead));
          pos += bytesRead;
        }
      }
      t = await copyUpload(new BatchedFileWriter(fh, offset), data, length, verifier, signal);
    } finally {
      await fh.close();
    }
    if (t.tooLong) {
      await rm(tmp, { force: true });
      return { ok: false, reason: "long" };
    }
    if (t.aborted || t.received < length) {
      // Keep what arrived: the sender can resume from here (putoffset).
      return { ok: false, reason: t.aborted ? "aborted" : "short" };
    }
    const total = offset + length;
    if (
      (key.size !== undefined && total !== key.size) ||
      (verifier && !verifier.matches()) ||
      (senderChecks && !(await (checkedBySender as Promise<boolean>)))
    ) {
      await rm(tmp, { force: true });
      return { ok: false, reason: "mismatch" };
    }
    await this.#moveIntoPlace(key, tmp);
    return { ok: true };
  }

  /**
   * Content placed in the temp file by other means (DATA-PRESENT): verify it
   * and move it into place.
   */
  adoptTmp(key: Key): Promise<boolean> {
    return this.exclusive(key, async () => {
      if (await this.has(key)) return true;
      const tmp = this.tmpFile(key);
      let size: number;
      try {
        size = (await stat(tmp)).size;
      } catch (e) {
        if (isAbsent(e)) return false;
        throw storeFailure("looking for a partial upload", e, tmp);
      }
      if (key.size !== undefined && size !== key.size) return false;
      const verification = receiveVerification(key);
      if (verification.kind === "refuse") return false;
      if (verification.kind === "hash") {
        const v = verification.create();
        for await (const chunk of createReadStream(tmp, { highWaterMark: CHUNK })) {
          v.update(chunk as Buffer);
        }
        if (!v.matches()) {
          await rm(tmp, { force: true });
          return false;
        }
      }
      await this.#moveIntoPlace(key, tmp);
      return true;
    });
  }

  /** Rename a verified temp file into the object store, read-only, as git-annex does. */
  async #moveIntoPlace(key: Key, tmp: string): Promise<void> {
    const dest = this.objectFile(key);
    const keyDir = dirname(dest);
    // A directory made now is writable as made; one there already may be frozen.
    const made = await ensureDir(keyDir);
    if (!made) await chmod(keyDir, 0o755);
    await chmod(tmp, 0o444);
    try {
      await rename(tmp, dest);
    } catch (e) {
      // Made without write permission for us (an unusual umask): thawed, and again.
      if (!made || errnoCode(e) !== "EACCES") throw e;
      await chmod(keyDir, 0o755);
      await rename(tmp, dest);
    }
    // git-annex freezes the key's directory so the object cannot be deleted
    // or replaced by accident.
    await chmod(keyDir, 0o555);
  }

  /** Open the content for reading from `offset`, or null when not present. */
  async read(key: Key, offset: number): Promise<{ size: number; stream: Readable } | null> {
    const size = await this.size(key);
    if (size === null) return null;
    if (offset >= size) return { size, stream: Readable.from([]) };
    return { size, stream: new ObjectFileStream(this.objectFile(key), offset, size) };
  }

  /**
   * Lock the content against removal, by this or any other process (stock
   * git-annex included): null when a removal holds it or it is not here.
   */
  lockShared(key: Key): Promise<SharedContentLock | null> {
    return this.#lockFiles.lockShared(this.objectFile(key));
  }

  /**
   * Delete the content unless some process (git-annex's too) holds it
   * locked: false then. Callers check this process's own locks first. A
   * failure to delete it is thrown, never answered as removed.
   */
  remove(key: Key): Promise<boolean> {
    return this.exclusive(key, async () => {
      const file = this.objectFile(key);
      const keyDir = dirname(file);
      try {
        await chmod(keyDir, 0o755);
      } catch (e) {
        if (isAbsent(e)) return true; // not present
        throw storeFailure("removing the content", e, file);
      }
      const gone = await this.#lockFiles.whileRemoving(file, () =>
        rm(file, { force: true }).catch((e: unknown) => {
          throw storeFailure("removing the content", e, file);
        }),
      );
      if (gone === null) {
        await chmod(keyDir, 0o555).catch(() => undefined);
        return false;
      }
      await this.#tidy(keyDir);
      return true;
    });
  }

  /**
   * Remove the now-empty key and hash directories, as git-annex does. Best
   * effort, as in git-annex: the content is already gone, which is the
   * answer, so a directory that cannot be removed stops the tidying and
   * fails nothing.
   */
  async #tidy(keyDir: string): Promise<void> {
    const top = this.layout.objectsDir;
    let dir = keyDir;
    while (dir.startsWith(top) && dir !== top) {
      try {
        if ((await readdir(dir)).length > 0) return;
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  /** Drop a temp file (e.g. after an upload was abandoned for good). */
  async discardTmp(key: Key): Promise<void> {
    const tmp = this.tmpFile(key);
    try {
      // Emptied first, so its blocks are freed even while a reader holds it open.
      await truncate(tmp);
      await rm(tmp, { force: true });
    } catch (e) {
      if (!isAbsent(e)) throw storeFailure("discarding a partial upload", e, tmp);
    }
  }
}
