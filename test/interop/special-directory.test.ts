/**
 * Stock git-annex is the judge of the directory special remote's format:
 * (a) what annexgate's directory Peer stores, a stock clone that enables
 * the same remote fscks and gets; (b) what stock `git annex copy --to`
 * stored, annexgate retrieves (from offset 0 and from the middle) and
 * finds present, at exactly the paths and modes annexgate itself writes;
 * (c) a drop by either side is seen by the other.
 */
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatKey, type Key, parseKey } from "../../src/keys/index.js";
import {
  builtinPeerKinds,
  DirectoryStorage,
  type Peer,
  type RemoteConnection,
  SpecialPeer,
} from "../../src/peers/index.js";
import type { Remote } from "../../src/remotes/index.js";
import {
  gitAnnexRepo,
  makeTempDir,
  removeDir,
  requireGitAnnex,
  run,
  writeRandomFile,
} from "../helpers/index.js";

const annex = (cwd: string, args: string[]) => run("git", ["annex", ...args], { cwd });

async function keyOf(repo: string, file: string): Promise<Key> {
  return parseKey((await annex(repo, ["lookupkey", file])).trim());
}

/** Exit status of `git annex checkpresentkey` (0 present, 1 absent, 100 cannot tell). */
async function checkPresentKey(repo: string, key: Key, remote: string): Promise<number> {
  return annex(repo, ["checkpresentkey", formatKey(key), remote]).then(
    () => 0,
    (e: Error) => ((e.cause as { code?: number }).code ?? -1) as number,
  );
}

async function fetchBytes(peer: Peer, key: Key, offset: number): Promise<Buffer> {
  const got = await peer.retrieve(key, offset);
  assert.ok(got, `retrieve ${formatKey(key)} at ${offset}`);
  const parts: Buffer[] = [];
  for await (const c of got.data as AsyncIterable<Buffer>) parts.push(c);
  assert.equal(await got.valid, true);
  const bytes = Buffer.concat(parts);
  assert.equal(bytes.length, got.length);
  return bytes;
}

/** Every path under `dir` but `tmp/`, with its permission bits: the layout as a listing. */
async function layout(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  const lines: string[] = [];
  for (const rel of entries) {
    if (rel === "tmp" || rel.startsWith("tmp/")) continue;
    lines.push(`${((await stat(join(dir, rel))).mode & 0o7777).toString(8)} ${rel}`);
  }
  return lines.sort();
}

describe("directory special remote: annexgate and stock git-annex read each other", () => {
  let root = "";
  let a = ""; // the repository that made the remote
  let b = ""; // a clone that enables it
  let d = ""; // the remote's directory
  let conn: RemoteConnection;
  const files: Record<string, Key> = {};

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-specialdir-");
    a = await gitAnnexRepo(join(root, "a"), "a");
    d = join(root, "d");
    await mkdir(d);
    await annex(a, ["initremote", "d", "type=directory", `directory=${d}`, "encryption=none"]);
    const sizes: Record<string, number> = {
      "ours-1.bin": 300_000,
      "ours-2.tar.gz": 1,
      "ours-3": 1_200_000,
      "stock-1.bin": 650_000,
      "stock-2.txt": 70_001,
    };
    for (const [name, size] of Object.entries(sizes)) await writeRandomFile(join(a, name), size);
    await annex(a, ["add", "-q", "."]);
    await run("git", ["commit", "-qm", "files"], { cwd: a });
    for (const name of Object.keys(sizes)) files[name] = await keyOf(a, name);
    const uuid = (await run("git", ["config", "remote.d.annex-uuid"], { cwd: a })).trim();
    const remote: Remote = {
      name: "d",
      uuid,
      cost: 100,
      transport: {
        kind: "directory",
        directory: d,
        special: { fields: { type: "directory", encryption: "none" }, gitConfig: { directory: d } },
      },
      proxy: false,
      clusterNode: [],
      clusterGateway: [],
      proxiedBy: null,
      ignore: false,
    };
    conn = await builtinPeerKinds.open(remote, { gatewayUuid: uuid });
  });
  after(async () => {
    await conn?.close();
    if (root !== "") await removeDir(root);
  });

  async function storeFromA(name: string): Promise<void> {
    const key = files[name] as Key;
    const object = join(a, (await annex(a, ["contentlocation", formatKey(key)])).trim());
    const size = (await stat(object)).size;
    const r = await conn.peer.store({
      key,
      offset: 0,
      length: size,
      data: createReadStream(object),
    });
    assert.equal(r.stored, true, `store ${name}`);
  }

  it("(a) a stock clone enabling the remote fscks and gets what annexgate stored", async () => {
    for (const name of ["ours-1.bin", "ours-2.tar.gz", "ours-3"]) await storeFromA(name);
    b = join(root, "b");
    await run("git", ["clone", "-q", a, b]);
    await annex(b, ["init", "-q", "b"]);
    await annex(b, ["enableremote", "d", `directory=${d}`]);
    // fsck --from downloads each object, checks it against its key, and
    // records it in the location log (nothing logged it yet).
    const fsck = await annex(b, ["fsck", "--from", "d", "ours-1.bin", "ours-2.tar.gz", "ours-3"]);
    assert.equal((fsck.match(/ ok$/gm) ?? []).length, 3, fsck);
    await annex(b, ["get", "--from", "d", "ours-1.bin", "ours-2.tar.gz", "ours-3"]);
    for (const name of ["ours-1.bin", "ours-2.tar.gz", "ours-3"]) {
      assert.ok((await readFile(join(b, name))).equals(await readFile(join(a, name))), name);
    }
    await annex(b, ["fsck", "ours-1.bin", "ours-2.tar.gz", "ours-3"]);
  });

  it("(b) annexgate retrieves what stock stored, from offset 0 and the middle", async () => {
    await annex(a, ["copy", "-q", "--to", "d", "stock-1.bin", "stock-2.txt"]);
    for (const name of ["stock-1.bin", "stock-2.txt"]) {
      const key = files[name] as Key;
      const content = await readFile(join(a, name));
      assert.equal((await conn.peer.checkPresent(key)).present, true, name);
      assert.ok((await fetchBytes(conn.peer, key, 0)).equals(content), `${name} from 0`);
      const middle = Math.floor(content.length / 2) + 3;
      assert.ok((await fetchBytes(conn.peer, key, middle)).equals(content.subarray(middle)));
      const po = await conn.peer.putOffset(key);
      assert.equal(po.alreadyHave, true, "already-have for content stock stored");
    }
    const absent = files["stock-2.txt"] as Key;
    await annex(a, ["drop", "-q", "--from", "d", "stock-2.txt"]);
    assert.equal((await conn.peer.checkPresent(absent)).present, false);
    assert.equal(await conn.peer.retrieve(absent, 0), null);
  });

  it("(b) annexgate writes exactly the paths and modes stock writes", async () => {
    const key = files["stock-1.bin"] as Key;
    const stockOnly = join(root, "stock-only");
    const oursOnly = join(root, "ours-only");
    await mkdir(stockOnly);
    await mkdir(oursOnly);
    await annex(a, [
      "initremote",
      "s",
      "type=directory",
      `directory=${stockOnly}`,
      "encryption=none",
    ]);
    await annex(a, ["copy", "-q", "--to", "s", "stock-1.bin"]);
    const ours = new SpecialPeer({ uuid: "u", storage: new DirectoryStorage(oursOnly) });
    const content = await readFile(join(a, "stock-1.bin"));
    const r = await ours.store({
      key,
      offset: 0,
      length: content.length,
      data: createReadStream(join(a, "stock-1.bin")),
    });
    assert.equal(r.stored, true);
    assert.deepEqual(await layout(oursOnly), await layout(stockOnly));
    assert.ok(
      (await layout(oursOnly)).some((l) => l.startsWith("444 ")),
      "a read-only object",
    );
  });

  it("(c) stock drops what annexgate stored, and annexgate removes what stock stored", async () => {
    const ours = files["ours-1.bin"] as Key;
    await annex(b, ["drop", "-q", "--from", "d", "ours-1.bin"]);
    assert.equal((await conn.peer.checkPresent(ours)).present, false);
    assert.equal(await checkPresentKey(b, ours, "d"), 1);

    const stocks = files["stock-1.bin"] as Key;
    assert.equal(await checkPresentKey(a, stocks, "d"), 0);
    assert.equal((await conn.peer.remove(stocks)).removed, true);
    assert.equal(await checkPresentKey(a, stocks, "d"), 1);
    // Stock's fsck finds it gone (and says so on stdout or stderr, failing).
    const fsck = await run("sh", ["-c", "git annex fsck --fast --from d stock-1.bin 2>&1; true"], {
      cwd: a,
    });
    assert.match(fsck, /fixing location log/);
    // What is left of the remote holds nothing of the removed keys.
    const left = await layout(d);
    for (const key of [ours, stocks]) {
      assert.ok(!left.some((l) => l.includes(formatKey(key))), left.join("\n"));
    }
  });
});
