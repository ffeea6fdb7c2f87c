/**
 * Where an object store keeps its files. A git-annex repository keeps
 * objects under `annex/objects` (mixed-case hash directories when non-bare,
 * lower-case when bare) and partial uploads under `annex/tmp`; a directory
 * special remote keeps lower-case hash directories at its top. The store
 * takes the layout as a value, so another place to keep objects is a new
 * layout, not an edit of the store.
 */
import { dirname, join } from "node:path";
import { type Key, keyFile, objectPath } from "../keys/index.js";

/** The hash-directory scheme of the key directories (keys/hashdirs). */
export type HashDirScheme = "mixed" | "lower";

export interface ObjectLayout {
  /**
   * Where objects live: `HASHDIR/KEYFILE/KEYFILE` below it. Emptied hash
   * directories are tidied up to it, never past it.
   */
  readonly objectsDir: string;
  readonly hashing: HashDirScheme;
  /** Where partial uploads live, one file per key, kept for a resume. */
  readonly tmpDir: string;
  /**
   * A directory that must already exist before the store creates anything:
   * a repository moved or deleted under a running server must not be
   * recreated as a bare tree of annex directories by the next upload.
   */
  readonly home: string;
  /**
   * git-annex's transfer bookkeeping (`annex/transfer`), where a stock
   * process receiving a key holds its lock; absent where no git-annex runs
   * (a special remote's folder).
   */
  readonly transferDir?: string;
}

/**
 * The layout of a git-annex repository's own objects, given its `annex`
 * directory (`.git/annex`, or `annex` in a bare repository).
 */
export function repositoryLayout(annexDir: string, hashing: HashDirScheme): ObjectLayout {
  return {
    objectsDir: join(annexDir, "objects"),
    hashing,
    tmpDir: join(annexDir, "tmp"),
    home: dirname(annexDir),
    transferDir: join(annexDir, "transfer"),
  };
}

export function objectFileIn(layout: ObjectLayout, key: Key): string {
  return join(layout.objectsDir, objectPath(key, layout.hashing));
}

export function tmpFileIn(layout: ObjectLayout, key: Key): string {
  return join(layout.tmpDir, keyFile(key));
}

/**
 * The lock a stock git-annex holds while it receives a key into its temp
 * file, whoever sends it (Logs/Transfer.hs, transferFileAndLockFile: a
 * download's lock is not per remote).
 */
export function downloadLockFileIn(transferDir: string, tmpName: string): string {
  return join(transferDir, "download", "lck", `lck.${tmpName}`);
}

/** The work directory git-annex may keep beside a temp file (Annex/Locations.hs). */
export function tmpWorkDirIn(layout: ObjectLayout, tmpName: string): string {
  return join(layout.tmpDir, `work.${tmpName}`);
}
