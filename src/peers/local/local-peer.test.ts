/**
 * A disk failure in the repository reaches the LocalPeer's caller as the
 * object store's typed error: a key whose hash directory is a regular file
 * (ENOTDIR, which even root gets) is neither "not present" nor "removed".
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAnnexRepo, makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { locationsOf } from "../../branch/index.js";
import { ObjectStoreError } from "../../objects/index.js";
import { sample } from "../conformance.js";
import { type LocalRepository, openLocalRepository } from "./repository.js";

describe("LocalPeer over a damaged repository", () => {
  let dir: string;
  let repo: LocalRepository;

  before(async () => {
    dir = await makeTempDir("annexgate-localpeer-fail-");
    await gitAnnexRepo(dir, "local");
    repo = await openLocalRepository(dir, { commitDelayMs: 50 });
  });
  after(async () => {
    await repo.close();
    await removeDir(dir);
  });

  it("reports ENOTDIR as an error, not as absent or removed", async () => {
    const s = sample(100);
    const objects = repo.store.layout.objectsDir;
    const first = relative(objects, repo.store.objectFile(s.key)).split("/")[0] ?? "";
    await mkdir(objects, { recursive: true });
    await writeFile(join(objects, first), "not a directory");
    const isStoreError = (e: unknown) =>
      e instanceof ObjectStoreError && e.data.code === "ENOTDIR" && !e.message.includes(dir);
    await assert.rejects(repo.peer.checkPresent(s.key), isStoreError);
    await assert.rejects(repo.peer.remove(s.key), isStoreError);
    await assert.rejects(repo.peer.lockContent(s.key), isStoreError);
    await assert.rejects(repo.peer.retrieve(s.key, 0), isStoreError);
    assert.deepEqual(await locationsOf(repo.branch, s.key), [], "nothing recorded");
  });
});
