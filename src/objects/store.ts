/**
 * The local annex object store of one repository: objects under
 * `annex/objects`, uploads received into `annex/tmp` (resumable from the
 * size already there), verified against their key, then renamed into place
 * with the read-only permissions git-annex gives content.
 *
 * It knows files and keys, never the git-annex branch: callers record
 * location changes themselves.
 */
import { createReadStream } from "node:fs";
import {
  chmod,
  type FileHandle,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  truncate,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { AnnexgateError } from "../errors.js";
import {
  type Key,
  keyFile,
  objectPath,
  type Verification,
  verificationFor,
} from "../keys/index.js";
import {
  type AnnexContentLockFiles,
  processContentLockFiles,
  type SharedContentLock,
} from "./content-lockfiles.js";
import { KeyedMutex } from "./mutex.js";

export type ObjectLayout = "mixed" | "lower";

/** Why a receive did not store the content. */
export type ReceiveFailure =
  | "short" // fewer bytes than promised: the temp file is kept for a resume
  | "long" // more bytes than promised: discarded
  | "mismatch" // content does not match the key: discarded
  | "bad-offset" // the sender resumed from an offset the temp file cannot support
  | "aborted" // the sender went away: the temp file is kept for a resume
  | "busy"; // another upload of the key went on too long to wait for: nothing touched

export type ReceiveResult = { ok: true } | { ok: false; reason: ReceiveFailure };

export class ObjectStoreError extends AnnexgateError {
  constructor(message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super("AG_OBJECT_STORE", message, data, cause);
  }
}

const NO_VERIFICATION: Verification = { kind: "none" };

/** How long an upload waits for another upload of the same key to finish. */
const RECEIVE_WAIT_MS = 5000;
const BUSY: ReceiveResult = { ok: false, reason: "busy" };

/** Chunk size for reading objects and temp files; bounds memory per transfer. */
const CHUNK = 256 * 1024;

/** Bytes gathered per write of an upload (socket chunks are ~64 KiB). */
const WRITE_BATCH = 1024 * 1024;

/**
 * Writes an upload's chunks to its temp file, gathering what arrives while
 * a write is under way into the next one (up to about 1 MiB): fewer
 * thread-pool round trips, receiving overlaps writing, and what arrives is
 * on disk promptly. At most one write and one batch are held.
 */
class BatchedFileWriter {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inFlight: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(
    private readonly fh: FileHandle,
    private position: number,
  ) {}

  async add(chunk: Buffer): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    this.kick();
    // Backpressure: a full batch waits for the write ahead of it.
    while (this.batchBytes >= WRITE_BATCH && this.inFlight) await this.inFlight;
    if (this.failure !== null) throw this.failure;
  }

  /** Write out everything gathered and wait for it. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failure !== null) throw this.failure;
  }

  /** Start writing the gathered batch unless a write is under way. */
  private kick(): void {
    if (this.inFlight || this.batchBytes === 0 || this.failure !== null) return;
    const buffers = this.batch;
    const at = this.position;
    this.position += this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    this.inFlight = writeAll(this.fh, buffers, at).then(
      () => {
        this.inFlight = null;
        this.kick();
      },
      (err: unknown) => {
        this.failure = err;
        this.inFlight = null;
      },
    );
  }
}

async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let bufs = buffers;
  let at = position;
  while (bufs.length > 0) {
    const { bytesWritten } = await fh.writev(bufs, at);
    at += bytesWritten;
    // A short write (rare on regular files): continue after what was written.
    let skip = bytesWritten;
    while (bufs.length > 0 && skip >= (bufs[0] as Buffer).length) {
      skip -= (bufs[0] as Buffer).length;
      bufs = bufs.slice(1);
    }
    if (skip > 0 && bufs.length > 0) bufs = [(bufs[0] as Buffer).subarray(skip), ...bufs.slice(1)];
  }
}

export class ObjectStore {
  /** Serializes work on one key (two uploads of one key share a temp file). */
  private readonly keyLocks = new KeyedMutex();

  /**
   * @param annexDir the repository's `annex` directory (`.git/annex`, or
   *   `annex` in a bare repository)
   * @param layout "mixed" hash directories (non-bare) or "lower" (bare)
   * @param lockFiles content locks shared with git-annex (the process's own)
   */
  constructor(
    readonly annexDir: string,
    readonly layout: ObjectLayout,
    private readonly lockFiles: AnnexContentLockFiles = processContentLockFiles(),
  ) {}

  /**
   * The git directory the annex directory is in must still be there: a
   * repository moved or deleted under a running server must not be
   * recreated as a bare tree of annex directories by the next upload.
   */
  private async checkRepository(): Promise<void> {
    const gitDir = dirname(this.annexDir);
    try {
      if ((await stat(gitDir)).isDirectory()) return;
    } catch {
      // gone: reported below
    }
    throw new ObjectStoreError(`the repository at ${gitDir} is gone`, { gitDir });
  }

  objectFile(key: Key): string {
    return join(this.annexDir, "objects", objectPath(key, this.layout));
  }

  tmpFile(key: Key): string {
    return join(this.annexDir, "tmp", keyFile(key));
  }

  /** Size of the content, or null when it is not present. */
  async size(key: Key): Promise<number | null> {
    try {
      const st = await stat(this.objectFile(key));
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  }

  async has(key: Key): Promise<boolean> {
    return (await this.size(key)) !== null;
  }

  /** How much of an interrupted upload is already here (the resume offset). */
  async tmpSize(key: Key): Promise<number> {
    try {
      return (await stat(this.tmpFile(key))).size;
    } catch {
      return 0;
    }
  }

  /** Run `fn` while no other receive or removal of this key runs. */
  exclusive<T>(key: Key, fn: () => Promise<T>): Promise<T> {
    return this.keyLocks.run(keyFile(key), fn);
  }

  /**
   * Receive `length` bytes of content starting at `offset` into the temp
   * file, then verify and move into place. The bytes before `offset` must
   * already be in the temp file (a resumed upload).
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
    return this.keyLocks
      .runWithin(keyFile(key), RECEIVE_WAIT_MS, BUSY, () =>
        this.receiveLocked(key, offset, length, data, signal, checkedBySender),
      )
      .then((r) => {
        if (r === BUSY) data.resume();
        return r;
      });
  }

  private async receiveLocked(
    key: Key,
    offset: number,
    length: number,
    data: Readable,
    signal?: AbortSignal,
    checkedBySender?: Promise<boolean>,
  ): Promise<ReceiveResult> {
    // A check by the sender covers the content only when all of it comes
    // in this upload; a resumed one is hashed here, from the disk.
    const senderChecks = checkedBySender !== undefined && offset === 0;
    const verification = senderChecks ? NO_VERIFICATION : verificationFor(key);
    if (await this.has(key)) {
      // Already here: drain what the sender sends, as the protocol expects.
      data.resume();
      return { ok: true };
    }
    const tmp = this.tmpFile(key);
    await this.checkRepository();
    await mkdir(dirname(tmp), { recursive: true });
    const have = await this.tmpSize(key);
    if (offset > have) {
      data.resume();
      return { ok: false, reason: "bad-offset" };
    }
    const fh = await open(tmp, have === 0 ? "w" : "r+");
    let received = 0;
    let tooLong = false;
    let aborted = false;
    const verifier = verification.kind === "hash" ? verification.create() : null;
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
      const writer = new BatchedFileWriter(fh, offset);
      // A sender that stalls must not hold the key past an abort: destroying
      // the source ends the loop below even when no chunk is coming.
      const onAbort = () => data.destroy(new Error("receive aborted", { cause: signal?.reason }));
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        if (signal?.aborted) throw signal.reason;
        for await (const chunk of data as AsyncIterable<Buffer>) {
          if (signal?.aborted) throw signal.reason;
          let piece = chunk;
          if (received + piece.length > length) {
            piece = piece.subarray(0, length - received);
            tooLong = true;
          }
          if (piece.length > 0) {
            verifier?.update(piece);
            // Awaiting the writer (when its batch is full) is what gives the
            // upload backpressure.
            await writer.add(piece);
            received += piece.length;
          }
          if (tooLong) break;
        }
      } catch {
        aborted = true;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
      // Whatever arrived goes to disk, so that a resume starts after it.
      try {
        await writer.flush();
      } catch {
        aborted = true;
      }
      if (tooLong) data.destroy();
    } finally {
      await fh.close();
    }
    if (tooLong) {
      await rm(tmp, { force: true });
      return { ok: false, reason: "long" };
    }
    if (aborted || received < length) {
      // Keep what arrived: the sender can resume from here (putoffset).
      return { ok: false, reason: aborted ? "aborted" : "short" };
    }
    const total = offset + length;
    if (key.size !== undefined && total !== key.size) {
      await rm(tmp, { force: true });
      return { ok: false, reason: "mismatch" };
    }
    if (
      (verifier && !verifier.matches()) ||
      (senderChecks && !(await (checkedBySender as Promise<boolean>)))
    ) {
      await rm(tmp, { force: true });
      return { ok: false, reason: "mismatch" };
    }
    await this.moveIntoPlace(key, tmp);
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
      } catch {
        return false;
      }
      if (key.size !== undefined && size !== key.size) return false;
      const verification = verificationFor(key);
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
      await this.moveIntoPlace(key, tmp);
      return true;
    });
  }

  /** Rename a verified temp file into the object store, read-only, as git-annex does. */
  private async moveIntoPlace(key: Key, tmp: string): Promise<void> {
    const dest = this.objectFile(key);
    const keyDir = dirname(dest);
    await mkdir(keyDir, { recursive: true });
    await chmod(keyDir, 0o755);
    await chmod(tmp, 0o444);
    await rename(tmp, dest);
    // git-annex freezes the key's directory so the object cannot be deleted
    // or replaced by accident.
    await chmod(keyDir, 0o555);
  }

  /** Open the content for reading from `offset`, or null when not present. */
  async read(key: Key, offset: number): Promise<{ size: number; stream: Readable } | null> {
    const size = await this.size(key);
    if (size === null) return null;
    if (offset >= size) return { size, stream: Readable.from([]) };
    return {
      size,
      stream: createReadStream(this.objectFile(key), { start: offset, highWaterMark: CHUNK }),
    };
  }

  /**
   * Lock the content against removal, by this or any other process (stock
   * git-annex included): null when a removal holds it or it is not here.
   */
  lockShared(key: Key): Promise<SharedContentLock | null> {
    return this.lockFiles.lockShared(this.objectFile(key));
  }

  /**
   * Delete the content unless some process (git-annex's too) holds it
   * locked: false then. Callers check this process's own locks first.
   */
  remove(key: Key): Promise<boolean> {
    return this.exclusive(key, async () => {
      const file = this.objectFile(key);
      const keyDir = dirname(file);
      try {
        await chmod(keyDir, 0o755);
      } catch {
        return true; // not present
      }
      const gone = await this.lockFiles.whileRemoving(file, () => rm(file, { force: true }));
      if (gone === null) {
        await chmod(keyDir, 0o555).catch(() => undefined);
        return false;
      }
      // Tidy the now-empty key and hash directories, as git-annex does.
      let dir = keyDir;
      const objects = join(this.annexDir, "objects");
      while (dir.startsWith(objects) && dir !== objects) {
        try {
          if ((await readdir(dir)).length > 0) break;
          await rmdir(dir);
        } catch {
          break;
        }
        dir = dirname(dir);
      }
      return true;
    });
  }

  /** Drop a temp file (e.g. after an upload was abandoned for good). */
  async discardTmp(key: Key): Promise<void> {
    await truncate(this.tmpFile(key)).catch(() => undefined);
    await rm(this.tmpFile(key), { force: true });
  }
}
