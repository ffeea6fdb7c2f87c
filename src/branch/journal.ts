/**
 * The journal's file names, and reading the whole journal. Files of the branch are kept flat in
 * `annex/journal/`: each "/" of the branch path becomes "_", and each "_"
 * is doubled (Annex/Journal.hs `journalFile` / `fileJournal`).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { forEachBounded, JOURNAL_CONCURRENCY } from "./bounded.js";

/** The journal file name for a path on the git-annex branch. */
export function journalFileName(branchPath: string): string {
  return branchPath.replace(/[/_]/g, (c) => (c === "/" ? "_" : "__"));
}

/** The branch path a journal file name stands for. */
export function branchPathOf(journalName: string): string {
  // "__" is a literal "_"; a lone "_" is a "/" (a lone trailing "_" is
  // dropped, as git-annex does).
  return journalName.replace(/__|_$|_/g, (m) => (m === "__" ? "_" : m === "_" ? "/" : ""));
}

/**
 * Drops an incomplete last line, as git-annex does when it reads a
 * journal file: an interrupted append can leave one behind.
 */
export function discardIncompleteAppend(content: Buffer): Buffer {
  if (content.length === 0 || content[content.length - 1] === 0x0a) return content;
  const nl = content.lastIndexOf(0x0a);
  return content.subarray(0, nl + 1);
}

/**
 * Every file of the journal directory `dir`: branch path to the file's
 * exact bytes (empty when there is no journal). Files are read a bounded
 * number at a time, so a journal of any size can be read.
 */
export async function readJournalDir(dir: string): Promise<Map<string, Buffer>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw err;
  }
  const contents: (Buffer | null)[] = new Array(names.length).fill(null);
  await forEachBounded(names, JOURNAL_CONCURRENCY, async (name, i) => {
    try {
      contents[i] = await readFile(join(dir, name));
    } catch (err) {
      // Committed and removed meanwhile, or not a journal file.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "EISDIR") throw err;
    }
  });
  const snapshot = new Map<string, Buffer>();
  names.forEach((name, i) => {
    const raw = contents[i];
    if (raw !== undefined && raw !== null) snapshot.set(branchPathOf(name), raw);
  });
  return snapshot;
}
