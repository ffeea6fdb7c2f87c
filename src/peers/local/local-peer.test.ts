/**
 * A disk failure in the repository reaches the LocalPeer's caller as the
 * object store's typed error: a key whose hash directory is a regular file
 * (ENOTDIR, which even root gets) is neither "not present" nor "removed".
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { locationsOf } from "../../branch/index.js";
import { ObjectStoreError } from "../../objects/index.js";
import { sample } from "../conformance.js";
import { openedRepository } from "./repository.fixture.js";

describe("LocalPeer over a damaged repository", () => {
  const fx = openedRepository("annexgate-localpeer-fail-", "local");

  it("reports ENOTDIR as an error, not as absent or removed", async () => {
    const s = sample(100);
    const objects = fx.repo.store.layout.objectsDir;
    const first = relative(objects, fx.repo.store.objectFile(s.key)).split("/")[0] ?? "";
    await mkdir(objects, { recursive: true });
    await writeFile(join(objects, first), "not a directory");
    const isStoreError = (e: unknown) =>
      e instanceof ObjectStoreError && e.data.code === "ENOTDIR" && !e.message.includes(fx.dir);
    await assert.rejects(fx.repo.peer.checkPresent(s.key), isStoreError);
    await assert.rejects(fx.repo.peer.remove(s.key), isStoreError);
    await assert.rejects(fx.repo.peer.lockContent(s.key), isStoreError);
    await assert.rejects(fx.repo.peer.retrieve(s.key, 0), isStoreError);
    assert.deepEqual(await locationsOf(fx.repo.branch, s.key), [], "nothing recorded");
  });
});
