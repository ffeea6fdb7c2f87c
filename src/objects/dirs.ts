/**
 * Making the directory a file goes into, in the fewest system calls when
 * it is already there (the common case: an object store's temp and lock
 * directories): `mkdir(…, { recursive: true })` answers an existing
 * directory with a failed mkdir and a stat, this with the failed mkdir
 * alone. A file in the directory's place is found by whatever uses it
 * next (ENOTDIR), as before.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "./errors.js";

/** Makes `dir` (and its parents if need be); true when this call made it, false when it was there. */
export async function ensureDir(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (e) {
    const code = errnoCode(e);
    if (code === "EEXIST") return false;
    if (code !== "ENOENT") throw e;
  }
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir);
    return true;
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return false; // made meanwhile by another
    throw e;
  }
}
