/**
 * The file operations both ways of addressing a directory remote share
 * (by key, DirectoryStorage; by path, DirectoryPaths): what counts as
 * absent, syncing a directory after a rename, and streaming an opened
 * file from an offset.
 */
import { type FileHandle, open } from "node:fs/promises";
import { Readable } from "node:stream";
import type { StoredObject } from "../special/storage.js";
import { errnoOf, fsFailure } from "./fs-failure.js";

/** Read size per chunk; bounds memory per transfer. */
export const CHUNK = 256 * 1024;

/** A failed lookup that means "not there" (a name too long cannot be there either). */
export function isAbsent(e: unknown): boolean {
  const code = errnoOf(e);
  return code === "ENOENT" || code === "ENAMETOOLONG" || code === "ENOTDIR";
}

/** Sync a directory, so a rename into or out of it survives a crash. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The opened file from `offset` on, sized by what was opened (not by
 * whatever the path names later); null, with the handle closed, when it
 * is not a regular file. `what` names the operation in an error.
 */
export async function streamFrom(
  fh: FileHandle,
  offset: number,
  what: string,
): Promise<StoredObject | null> {
  let size: number;
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return null;
    }
    size = st.size;
  } catch (e) {
    await fh.close();
    throw fsFailure(what, e);
  }
  if (offset >= size) {
    await fh.close();
    return { length: 0, data: Readable.from([]) };
  }
  return {
    length: size - offset,
    data: fh.createReadStream({ start: offset, highWaterMark: CHUNK }),
  };
}
