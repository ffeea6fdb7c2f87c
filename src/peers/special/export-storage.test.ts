/**
 * SpecialPeer over an export directory remote (ExportStorage over
 * DirectoryPaths, with a real git repository's exported tree): a key of
 * the tree is stored to every file of the tree that lacks it, other keys
 * to annexobjects; reads and presence go export files first; a removal
 * never takes an exported file; content that is not its key's leaves
 * nothing anywhere.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { makeTempDir, removeDir, run } from "../../../test/helpers/index.js";
import { Git } from "../../git/index.js";
import { formatKey, type Key, keyFile } from "../../keys/index.js";
import { sample } from "../conformance.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { PeerRefusedError } from "../peer.js";
import { annexObjectLocation, ExportIndex } from "./export-index.js";
import { EXPORT_CONFLICT_REMOVAL, EXPORTED_KEY_REMOVAL, ExportStorage } from "./export-storage.js";
import { SpecialPeer } from "./special-peer.js";

const REMOTE = "4f2cc4df-6ea4-4db1-a3bc-79378573506a";
const FROM = "eba8edcd-d99a-4e95-b876-3f9eff4ae527";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

const storeAll = (peer: SpecialPeer, key: Key, data: Buffer) =>
  peer.store({ key, offset: 0, length: data.length, data: Readable.from([data]) });

async function readAll(peer: SpecialPeer, key: Key, offset = 0): Promise<Buffer | null> {
  const r = await peer.retrieve(key, offset);
  if (r === null) return null;
  const chunks: Buffer[] = [];
  for await (const c of r.data as AsyncIterable<Buffer>) chunks.push(c);
  assert.equal(await r.valid, true);
  return Buffer.concat(chunks);
}

describe("SpecialPeer over an export directory remote", () => {
  let repo: string;
  let git: Git;
  let tree: string;
  const exported = sample(5000, ".txt");
  const other = sample(7000, ".bin");
  let dir: string;
  let log: string;
  let peer: SpecialPeer;

  before(async () => {
    repo = await makeTempDir("annexgate-export-repo-");
    await run("git", ["init", "-q", repo]);
    await run("git", ["config", "user.email", "t@example.com"], { cwd: repo });
    await run("git", ["config", "user.name", "t"], { cwd: repo });
    const kf = keyFile(exported.key);
    await mkdir(join(repo, "sub"));
    await symlink(`.git/annex/objects/aa/bb/${kf}/${kf}`, join(repo, "a.txt"));
    await writeFile(join(repo, "sub", "copy.txt"), `/annex/objects/${kf}\n`);
    await run("git", ["add", "-A"], { cwd: repo });
    await run("git", ["commit", "-q", "-m", "t"], { cwd: repo });
    tree = (await run("git", ["rev-parse", "HEAD^{tree}"], { cwd: repo })).trim();
    git = await Git.open(repo);
  });
  after(async () => {
    await removeDir(repo);
  });

  beforeEach(async () => {
    dir = await makeTempDir("annexgate-export-dir-");
    log = `1s ${FROM}:${REMOTE} ${tree}\n`;
    const storage = new DirectoryStorage(dir);
    const index = new ExportIndex({ remoteUuid: REMOTE, git, readLog: async () => log });
    peer = new SpecialPeer({
      uuid: REMOTE,
      storage: new ExportStorage(storage.byPath, index, () => storage.close()),
    });
  });
  afterEach(async () => {
    await peer.close();
    await removeDir(dir);
  });

  it("a key of the exported tree is stored to each of its files; reads come from there", async () => {
    assert.deepEqual(await storeAll(peer, exported.key, exported.data), {
      stored: true,
      plusUuids: [],
    });
    assert.deepEqual(await filesUnder(dir), ["a.txt", "sub/copy.txt"]);
    assert.deepEqual(await readFile(join(dir, "sub", "copy.txt")), exported.data);
    assert.deepEqual(await readAll(peer, exported.key, 1000), exported.data.subarray(1000));
    assert.equal((await peer.checkPresent(exported.key)).present, true);
    assert.deepEqual(await peer.putOffset(exported.key), { alreadyHave: true, plusUuids: [] });
  });

  it("a key present at one of its files is present: already-have, nothing written", async () => {
    await writeFile(join(dir, "a.txt"), exported.data);
    assert.deepEqual(await peer.putOffset(exported.key), { alreadyHave: true, plusUuids: [] });
    await storeAll(peer, exported.key, exported.data);
    assert.deepEqual(await filesUnder(dir), ["a.txt"]);
  });

  it("another key goes to annexobjects, is read from there and removed from there", async () => {
    await storeAll(peer, other.key, other.data);
    const loc = annexObjectLocation(other.key);
    assert.deepEqual(await filesUnder(dir), [loc]);
    assert.deepEqual(await readAll(peer, other.key), other.data);
    assert.deepEqual(await peer.remove(other.key), { removed: true, plusUuids: [] });
    assert.deepEqual(await readdir(dir), [], "emptied directories are removed too");
    assert.equal((await peer.checkPresent(other.key)).present, false);
  });

  it("a key of the exported tree is never removed; in a conflict no key is", async () => {
    await storeAll(peer, exported.key, exported.data);
    await assert.rejects(peer.remove(exported.key), (e: unknown) => {
      assert.ok(e instanceof PeerRefusedError);
      assert.equal(e.message, EXPORTED_KEY_REMOVAL);
      assert.equal(e.data.forClient, true);
      return true;
    });
    assert.deepEqual(await filesUnder(dir), ["a.txt", "sub/copy.txt"]);
    await storeAll(peer, other.key, other.data);
    log += `1s 22222222-2222-4222-8222-222222222222:${REMOTE} ${"4b825dc642cb6eb9a060e54bf8d69288fbee4904"}\n`;
    await assert.rejects(peer.remove(other.key), new RegExp(EXPORT_CONFLICT_REMOVAL.slice(0, 30)));
    assert.equal((await peer.checkPresent(other.key)).present, true);
  });

  it("when a new export drops the key from the tree, its annexobjects copy can go", async () => {
    await storeAll(peer, other.key, other.data);
    // The tree lost the key (an export of the empty tree): the annexobjects copy may go.
    log = `2s ${FROM}:${REMOTE} 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n`;
    assert.deepEqual(await peer.remove(other.key), { removed: true, plusUuids: [] });
  });

  it("content that is not its key's leaves nothing, at export files or annexobjects", async () => {
    for (const s of [exported, other]) {
      const r = await storeAll(peer, s.key, randomBytes(s.data.length));
      assert.equal(r.stored, false, formatKey(s.key));
    }
    assert.deepEqual(await filesUnder(dir), []);
  });
});
