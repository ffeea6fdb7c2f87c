/**
 * Writing many blobs with one git process. `git hash-object` batches only
 * file names, so writing a large git-annex journal that way needs one
 * temporary file per blob (tens of thousands at once ran out of file
 * descriptors). `git fast-import` takes the contents themselves on its
 * stdin and answers `get-mark` with each blob's id, so the blobs stream
 * through one pipe with backpressure and no temporary files.
 */
import { GitError } from "./errors.js";
import { FastImport } from "./fast-import.js";

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Feeds every content to fast-import as a blob, each followed by `get-mark`. */
async function feed(fi: FastImport, contents: readonly (Buffer | string)[]): Promise<void> {
  for (let i = 0; i < contents.length; i++) {
    const body = contents[i] ?? "";
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    await fi.write(`blob\nmark :${i + 1}\ndata ${bytes.length}\n`);
    await fi.write(bytes);
    await fi.write(`\nget-mark :${i + 1}\n`);
  }
}

/**
 * Writes each content as a blob of the repository whose environment is
 * `env` and returns the blob ids in the same order.
 */
export async function writeBlobs(
  cwd: string,
  env: Record<string, string>,
  contents: readonly (Buffer | string)[],
): Promise<string[]> {
  const fi = new FastImport(cwd, env);
  const ids: string[] = [];
  const answers = (async () => {
    for (let i = 0; i < contents.length; i++) ids.push(await fi.readLine());
  })();
  // Read answers while feeding, so neither pipe fills up.
  answers.catch(() => {});
  try {
    await feed(fi, contents);
    await fi.finish();
    await answers;
  } catch (err) {
    await fi.abort();
    throw err;
  }
  if (ids.length !== contents.length || !ids.every((id) => SHA.test(id))) {
    throw new GitError("git fast-import returned unexpected blob ids", { args: ["fast-import"] });
  }
  return ids;
}
