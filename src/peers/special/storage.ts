/**
 * Where a special remote keeps its objects, as the one special-remote Peer
 * sees it: named objects that are written out of sight and then published,
 * read from an offset, checked for and removed. An object's name is a
 * serialized key: the content's own key, a chunk key (`…-S<size>-C<n>--…`)
 * or an encrypted key (`GPGHMACSHA256--…`), so chunking and encryption sit
 * above this seam and each storage kind (directory, S3, ...) implements
 * only these few operations, with git-annex's layout for that kind.
 *
 * Verification, offsets, resume, chunking and encryption belong to the
 * Peer above, written once for every kind.
 *
 * Errors: a storage that cannot be reached (or cannot tell) throws
 * PeerUnreachableError; one that refuses (denied, misconfigured) throws
 * PeerRefusedError, with a message that names no local path.
 */
import type { Readable, Writable } from "node:stream";

export interface SpecialStorage {
  /**
   * Begin writing the object `name`. Nothing is visible under `name`
   * (to `has`, `read`, or stock git-annex reading the same remote) until
   * `publish` resolves. With `resumeFrom`, the bytes already staged for
   * `name` (see `stagedLength`) are kept and writing continues after them.
   */
  stage(name: string, opts?: { resumeFrom?: number; signal?: AbortSignal }): Promise<StagedObject>;
  /**
   * How many bytes of `name` an earlier, unpublished `stage` left, for a
   * resumed upload; 0 when none, or when this storage cannot resume.
   */
  stagedLength(name: string): Promise<number>;
  /** The object from byte `offset` on; null when it is absent. */
  read(name: string, offset: number, signal?: AbortSignal): Promise<StoredObject | null>;
  has(name: string, signal?: AbortSignal): Promise<boolean>;
  /** Remove the object; an absent object is not an error. */
  remove(name: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /**
   * The same storage addressed by paths under its top, as an export
   * remote (`exporttree=yes`) keeps files; absent for a kind that cannot
   * export yet.
   */
  readonly byPath?: PathStorage;
}

/**
 * A special remote's storage addressed by path (git-annex's export
 * actions: storeExport, retrieveExport, checkPresentExport, removeExport):
 * a path is relative to the remote's top, "/"-separated, checked safe by
 * the caller. Staged objects are visible only once published, and cannot
 * be resumed (`readKept` is absent).
 */
export interface PathStorage {
  /** Begin writing the file at `path`; `size`, when known, for a free-space check. */
  stage(path: string, opts?: { size?: number; signal?: AbortSignal }): Promise<StagedObject>;
  /** The file from byte `offset` on; null when it is absent. */
  read(path: string, offset: number, signal?: AbortSignal): Promise<StoredObject | null>;
  has(path: string, signal?: AbortSignal): Promise<boolean>;
  /** Remove the file, then its emptied parent directories; an absent file is not an error. */
  remove(path: string, signal?: AbortSignal): Promise<void>;
  /**
   * Move the file at `from` to `to`, replacing any file there, then
   * remove `from`'s emptied parent directories (git-annex's renameExport).
   * Throws when `from` is absent or the move fails; `to` then holds
   * either its old file or the whole moved one.
   */
  rename(from: string, to: string, signal?: AbortSignal): Promise<void>;
}

/** An object being written, not yet visible. */
export interface StagedObject {
  /** Where the bytes go, with backpressure. End it before `publish`. */
  readonly sink: Writable;
  /** Make the object visible under its name (a rename, a completed multipart upload). */
  publish(): Promise<void>;
  /**
   * Give up: nothing becomes visible. With `keep`, what was written may be
   * kept for a later `stage(..., { resumeFrom })` (storages that cannot
   * resume drop it anyway).
   */
  discard(opts?: { keep?: boolean }): Promise<void>;
  /**
   * The bytes kept from an earlier stage (the `resumeFrom` first ones), so
   * the Peer can hash them again before it trusts a resumed store. A
   * storage without it cannot resume: its `stagedLength` answers 0.
   */
  readKept?(signal?: AbortSignal): Readable;
}

export interface StoredObject {
  /** Bytes from the requested offset to the end. */
  readonly length: number;
  readonly data: Readable;
}
