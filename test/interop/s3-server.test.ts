/**
 * The base of every S3 test: stock git-annex's own S3 special remote works
 * against the loopback S3 server the tests start (s3rver, in-process), with
 * path-style requests and signature v4: initremote (creating the bucket
 * and its annex-uuid object), copy, drop, get, fsck and its own testremote.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  S3RVER_ENV,
  startS3Server,
} from "../helpers/s3-server.js";

describe("stock git-annex against the loopback S3 server", () => {
  let tmp: string;
  let server: RunningS3Server;
  let repo: string;
  let uuid: string;
  const annex = (...args: string[]) =>
    run("git", ["annex", ...args], { cwd: repo, env: S3RVER_ENV });

  before(requireGitAnnex);
  before(async () => {
    tmp = await makeTempDir();
    server = await startS3Server();
    repo = await gitAnnexRepo(join(tmp, "repo"), "client");
    uuid = await initStockS3Remote(repo, server, "s3", "stockbucket");
  });
  after(async () => {
    await server?.close();
    if (tmp !== undefined) await removeDir(tmp);
  });

  it("initremote made the bucket with the remote's annex-uuid object", async () => {
    const file = join(server.directory, "stockbucket", "annex-uuid._S3rver_object");
    assert.equal(await readFile(file, "utf8"), uuid);
  });

  it("copies to, drops, gets from and fscks the S3 remote", async () => {
    await writeRandomFile(join(repo, "f"), 300 * 1024);
    await run("git", ["annex", "add", "f"], { cwd: repo });
    await run("git", ["commit", "-qm", "f"], { cwd: repo });
    const key = (await annex("lookupkey", "f")).trim();
    await annex("copy", "f", "--to", "s3");
    // The object is named by the key, as Remote/S3.hs bucketObject names it.
    const stored = await readFile(join(server.directory, "stockbucket", `${key}._S3rver_object`));
    assert.equal(stored.length, 300 * 1024);
    await annex("drop", "f");
    await annex("get", "f", "--from", "s3");
    await annex("fsck", "--from", "s3", "f");
    assert.match(await annex("whereis", "f"), /s3/);
    await annex("drop", "f", "--from", "s3");
    assert.doesNotMatch(await annex("whereis", "f"), /\bs3\b/);
  });

  it("passes stock's own testremote (--fast: unchunked, unencrypted and encrypted)", async () => {
    const out = await annex("testremote", "s3", "--fast", "--size", "64KiB");
    assert.match(out, /All \d+ tests passed/);
  });
});
