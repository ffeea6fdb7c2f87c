/**
 * The journal's file names. Files of the branch are kept flat in
 * `annex/journal/`: each "/" of the branch path becomes "_", and each "_"
 * is doubled (Annex/Journal.hs `journalFile` / `fileJournal`).
 */

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
