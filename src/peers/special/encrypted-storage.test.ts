/**
 * The encrypted storage over a real directory storage and the real gpg:
 * what it stores is a gpg symmetric message under git-annex's encrypted
 * name, which gpg run as git-annex runs it decrypts; what gpg encrypted
 * it reads, from any offset; a wrong cipher or a corrupt object is a
 * GpgError, never content; content to public keys (pubkey,
 * sharedpubkey) likewise, with a key generated here, and refused with
 * the given words where the keyring lacks a key. And the Peer
 * conformance suite over it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { formatKey, hashDirLower, keyFile, parseKey } from "../../keys/index.js";
import { runPeerConformance, sample, storeAll } from "../conformance.js";
import { DirectoryStorage } from "../directory/directory-storage.js";
import { PeerRefusedError } from "../peer.js";
import { EncryptedStorage, plainLength } from "./encrypted-storage.js";
import { GpgError } from "./gpg.js";
import { encryptToKeys, generateGpgKey, useTempGpgHome } from "./gpg-home.fixture.js";
import { encryptedName, type RemoteEncryption } from "./remote-cipher.js";
import { SpecialPeer } from "./special-peer.js";

const UUID = "5b6f4a36-2d4c-4a5e-9f0e-6a1c1f3e8d12";

function encryption(passphrase: string, mac = "HMACSHA256"): RemoteEncryption {
  return {
    method: "shared",
    mac,
    macKey: Buffer.from("m".repeat(256)),
    keying: { kind: "symmetric", passphrase: Buffer.from(passphrase) },
    encryptOptions: [],
    decryptOptions: [],
  };
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** gpg run as git-annex runs it, on `input`, the passphrase on fd 3. */
async function gpgCli(args: readonly string[], passphrase: string, input: Buffer): Promise<Buffer> {
  const all = ["--quiet", "--trust-model", "always", "--batch", "--passphrase-fd", "3", ...args];
  const child = spawn("gpg", all, { stdio: ["pipe", "pipe", "inherit", "pipe"] });
  const exited = new Promise<number | null>((r) => child.once("close", r));
  (child.stdio[3] as Writable).end(`${passphrase}\n`);
  (child.stdin as Writable).end(input);
  const out = await readAll(child.stdout as Readable);
  assert.equal(await exited, 0);
  return out;
}

let restoreGpgHome: () => Promise<void>;
before(async () => {
  restoreGpgHome = await useTempGpgHome();
});
after(async () => {
  await restoreGpgHome();
});

describe("plainLength", () => {
  it("is the key's size, or a chunk's share of it; null when the key has none", () => {
    assert.equal(plainLength("SHA256E-s10--aa.bin"), 10);
    assert.equal(plainLength("SHA256E-s10-S4-C1--aa.bin"), 4);
    assert.equal(plainLength("SHA256E-s10-S4-C3--aa.bin"), 2);
    assert.equal(plainLength("URL--http&c%%example.com"), null);
    assert.equal(plainLength("not a key"), null);
  });
});

describe("EncryptedStorage over a directory", () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir("annexgate-encstorage-");
  });
  after(async () => {
    await removeDir(dir);
  });

  const objectFile = (name: string) => {
    const k = parseKey(name);
    return join(dir, hashDirLower(k), keyFile(k), keyFile(k));
  };

  it("stores a gpg message under the encrypted name, which gpg decrypts", async () => {
    const enc = encryption("secret one");
    const peer = new SpecialPeer({
      uuid: UUID,
      storage: new EncryptedStorage(new DirectoryStorage(dir), enc),
    });
    const s = sample(70_000);
    assert.equal((await storeAll(peer, s)).stored, true);
    const name = encryptedName(enc, formatKey(s.key));
    const ciphertext = await readFile(objectFile(name));
    assert.notDeepEqual(ciphertext.subarray(0, 100), s.data.subarray(0, 100));
    assert.deepEqual(await gpgCli(["--decrypt"], "secret one", ciphertext), s.data);
    assert.deepEqual(await readdir(join(dir, "tmp")).catch(() => []), []);
    assert.equal((await peer.checkPresent(s.key)).present, true);
    await peer.remove(s.key);
    assert.equal((await peer.checkPresent(s.key)).present, false);
  });

  it("reads what gpg encrypted, from any offset, and a key without a size", async () => {
    const enc = encryption("secret two");
    const storage = new EncryptedStorage(new DirectoryStorage(dir), enc);
    const data = Buffer.from("hello, encrypted world\n".repeat(500));
    const ciphertext = await gpgCli(
      ["--symmetric", "--force-mdc", "--no-textmode"],
      "secret two",
      data,
    );
    const keys: [string, number[]][] = [
      [`SHA256E-s${data.length}--x.txt`, [0, 4000, data.length]],
      // No size in the key: decrypted once to count it, then again to send.
      ["URL--http&c%%example.com&a", [1]],
    ];
    for (const [key, offsets] of keys) {
      const name = encryptedName(enc, key);
      const staged = await new DirectoryStorage(dir).stage(name);
      staged.sink.end(ciphertext);
      await new Promise((r) => staged.sink.once("finish", r));
      await staged.publish();
      for (const offset of offsets) {
        const got = await storage.read(key, offset);
        assert.ok(got !== null);
        assert.equal(got.length, data.length - offset);
        assert.deepEqual(await readAll(got.data), data.subarray(offset));
      }
    }
    assert.equal(await storage.read("SHA256E-s1--absent", 0), null);
    assert.equal(await storage.stagedLength(), 0);
    await assert.rejects(storage.stage("SHA256E-s1--a", { resumeFrom: 1 }), PeerRefusedError);
  });

  it("a wrong cipher or a corrupt object is a GpgError, and the peer's read is not valid", async () => {
    const s = sample(20_000);
    const good = new SpecialPeer({
      uuid: UUID,
      storage: new EncryptedStorage(new DirectoryStorage(dir), encryption("right")),
    });
    assert.equal((await storeAll(good, s)).stored, true);
    const wrong = new EncryptedStorage(new DirectoryStorage(dir), {
      ...encryption("wrong"),
    });
    const r = await wrong.read(formatKey(s.key), 0);
    assert.ok(r !== null);
    await assert.rejects(readAll(r.data), (e: unknown) => {
      assert.ok(e instanceof GpgError);
      assert.equal(e.data.failure, "undecryptable");
      assert.doesNotMatch(e.message, /\//);
      return true;
    });
    // Corrupt one byte in the middle: the MDC check fails at the end.
    const file = objectFile(encryptedName(encryption("right"), formatKey(s.key)));
    const bytes = await readFile(file);
    const middle = bytes.length >> 1;
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await chmod(join(file, ".."), 0o755);
    await chmod(file, 0o644);
    await writeFile(file, bytes);
    const got = await good.retrieve(s.key, 0);
    assert.ok(got !== null);
    const drained = readAll(got.data).catch(() => null);
    assert.equal(await got.valid, false);
    const out = await drained;
    assert.ok(out === null || !out.equals(s.data));
  });

  it("gives gpg the remote's annex-gnupg-options (here: no compression)", async () => {
    const data = Buffer.alloc(100_000);
    const key = `SHA256E-s${data.length}--zeros`;
    const sizes: number[] = [];
    for (const options of [[], ["--compress-algo", "none"]]) {
      const enc = { ...encryption("options"), encryptOptions: options };
      const storage = new EncryptedStorage(new DirectoryStorage(dir), enc);
      await storage.remove(key);
      const staged = await storage.stage(key);
      staged.sink.end(data);
      await new Promise((r) => staged.sink.once("finish", r));
      await staged.publish();
      sizes.push((await readFile(objectFile(encryptedName(enc, key)))).length);
      const back = await storage.read(key, 0);
      assert.ok(back !== null);
      assert.deepEqual(await readAll(back.data), data);
    }
    assert.ok((sizes[0] ?? 0) < 10_000 && (sizes[1] ?? 0) > 100_000, String(sizes));
  });

  it("no gpg is a GpgError saying so, naming no path, and nothing is stored", async () => {
    const s = sample(1000);
    const storage = new EncryptedStorage(new DirectoryStorage(dir), encryption("x"), {
      gpgProgram: "annexgate-no-such-gpg",
    });
    const peer = new SpecialPeer({ uuid: UUID, storage });
    await assert.rejects(storeAll(peer, s), (e: unknown) => {
      assert.ok(e instanceof GpgError, String(e));
      assert.equal(e.data.failure, "missing");
      assert.match(e.message, /gpg is not installed/);
      return true;
    });
    assert.equal((await peer.checkPresent(s.key)).present, false);
    assert.deepEqual(await readdir(join(dir, "tmp")).catch(() => []), []);
  });

  it("to public keys: stores what the secret key decrypts, reads what gpg encrypted to them", async () => {
    const keyId = await generateGpgKey(process.env.GNUPGHOME as string, "storage <s@test>");
    const enc: RemoteEncryption = {
      ...encryption("unused"),
      method: "sharedpubkey",
      macKey: Buffer.from("n".repeat(684)),
      keying: { kind: "pubkey", recipients: [keyId] },
    };
    const storage = new EncryptedStorage(new DirectoryStorage(dir), enc);
    const peer = new SpecialPeer({ uuid: UUID, storage });
    const s = sample(30_000);
    assert.equal((await storeAll(peer, s)).stored, true);
    const sealed = await readFile(objectFile(encryptedName(enc, formatKey(s.key))));
    assert.deepEqual(await gpgCli(["--decrypt"], "", sealed), s.data);
    const data = Buffer.from("theirs\n".repeat(1000));
    const key = `SHA256E-s${data.length}--theirs`;
    const staged = await new DirectoryStorage(dir).stage(encryptedName(enc, key));
    staged.sink.end(await encryptToKeys([keyId], data));
    await new Promise((r) => staged.sink.once("finish", r));
    await staged.publish();
    const got = await storage.read(key, 7);
    assert.ok(got !== null);
    assert.deepEqual(await readAll(got.data), data.subarray(7));

    // What the keyring lacks, refused in the words given; absent stays absent.
    const refusing = new EncryptedStorage(new DirectoryStorage(dir), enc, {
      refuseStore: "cannot store to remote r: no public key",
      refuseRead: "cannot retrieve from remote r: no secret key",
    });
    await assert.rejects(refusing.stage("SHA256E-s1--b"), (e: unknown) => {
      assert.ok(e instanceof PeerRefusedError);
      assert.equal(e.message, "cannot store to remote r: no public key");
      assert.equal(e.data.forClient, true);
      return true;
    });
    await assert.rejects(refusing.read(key, 0), /cannot retrieve from remote r: no secret key/);
    assert.equal(await refusing.read("SHA256E-s1--absent", 0), null);
    assert.equal(await refusing.has(key), true);
  });

  it("parse check: encrypted names are keys the directory layout accepts", () => {
    const name = encryptedName(encryption("x", "HMACSHA512"), "SHA256E-s1--a");
    assert.equal(formatKey(parseKey(name)), name);
  });
});

runPeerConformance(
  "SpecialPeer over an encrypted directory",
  async () => {
    const dir = await makeTempDir("annexgate-encpeer-");
    const peer = new SpecialPeer({
      uuid: UUID,
      storage: new EncryptedStorage(new DirectoryStorage(dir), encryption("conformance")),
    });
    return {
      peer,
      cleanup: async () => {
        await peer.close();
        await removeDir(dir);
      },
    };
  },
  // No resume: part of a gpg message cannot be continued.
  { locking: false, resume: false },
);
