/**
 * The journal's file names, and reading the whole journal. Files of the branch are kept flat in
 * `annex/journal/`: each "/" of the branch path becomes "_", and each "_"
 * is doubled (Annex/Journal.hs `journalFile` / `fileJournal`).
 */
import { readFileSync, statSync, unlinkSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate } from "node:timers/promises";

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

/** Journal files handled between two turns of the event loop. */
export const JOURNAL_BATCH = 128;

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  // Committed and removed meanwhile, or not a journal file.
  return code === "ENOENT" || code === "EISDIR";
}

/**
 * A journal file's bytes, or null when it is gone. Synchronous on
 * purpose, like the other journal file calls here: journal files are a
 * few hundred bytes, and for those the thread-pool round trip of
 * fs/promises costs five times the work (1.5 s against 0.26 s for 20,000
 * files). Callers do a batch of {@link JOURNAL_BATCH} and then yield, so
 * the event loop is never held for long, and only one file is open at a
 * time.
 */
export function readJournalFileSync(file: string): Buffer | null {
  // Most reads find no journal file: asked first without an exception,
  // which costs a sixth of a failed open's (1.2 µs against 6.9 µs).
  if (statSync(file, { throwIfNoEntry: false }) === undefined) return null;
  try {
    return readFileSync(file);
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** Removes `file` if it still holds exactly `expected`; see {@link readJournalFileSync}. */
export function removeIfUnchangedSync(file: string, expected: Buffer): void {
  const now = readJournalFileSync(file);
  if (now === null || !now.equals(expected)) return;
  try {
    unlinkSync(file);
  } catch (err) {
    if (!isGone(err)) throw err;
  }
}

/**
 * Every file of the journal directory `dir`: branch path to the file's
 * exact bytes (empty when there is no journal). Read a batch at a time,
 * one file open at a time, so a journal of any size can be read without
 * running out of file descriptors or holding up the event loop.
 */
export async function readJournalDir(dir: string): Promise<Map<string, Buffer>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw err;
  }
  const snapshot = new Map<string, Buffer>();
  for (let from = 0; from < names.length; from += JOURNAL_BATCH) {
    if (from > 0) await setImmediate();
    for (const name of names.slice(from, from + JOURNAL_BATCH)) {
      const raw = readJournalFileSync(join(dir, name));
      if (raw !== null) snapshot.set(branchPathOf(name), raw);
    }
  }
  return snapshot;
}
