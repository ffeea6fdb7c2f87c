/**
 * Encrypted special remotes (`encryption=shared`) proxied by the gateway,
 * with stock git-annex on both sides: stock names objects on the remote
 * as annexgate computes the names, for every `mac=`; what a stock client
 * copies through `annexgate p2phttp` a stock clone reads from the
 * directory directly (get, fsck --from), and what stock stored directly
 * the gateway serves; a drop through the gateway removes the encrypted
 * object; a corrupt object, or one encrypted with another passphrase, is
 * an error and nothing is stored; a chunked and encrypted remote has each
 * chunk encrypted, read both ways; an S3 remote, encrypted, the same way,
 * its credentials read from where stock embedded them encrypted.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { hashDirLower, keyFile, parseKey } from "../../src/keys/index.js";
import { type CipherConfig, cipherConfigOf } from "../../src/peers/special/cipher-config.js";
import {
  encryptedName,
  type RemoteEncryption,
  remoteEncryption,
} from "../../src/peers/special/remote-cipher.js";
import { configCommand, gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, writeRandomFile } from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  remoteLogFields,
  startS3Server,
} from "../helpers/s3-server.js";
import { annexHttpClone, type RunningP2pHttp, startAnnexgate } from "../helpers/servers.js";

const MACS = ["HMACSHA1", "HMACSHA224", "HMACSHA256", "HMACSHA384", "HMACSHA512"] as const;

const git = (cwd: string, args: readonly string[]) => run("git", args, { cwd });

async function present(repo: string, key: string, remote: string): Promise<boolean> {
  return git(repo, ["annex", "checkpresentkey", key, remote]).then(
    () => true,
    (e: Error) => {
      if ((e.cause as { code?: number }).code === 1) return false;
      throw e;
    },
  );
}

async function uuidOf(repo: string, remote: string): Promise<string> {
  return (await git(repo, ["config", `remote.${remote}.annex-uuid`])).trim();
}

/** The remote's shared cipher, read from remote.log as the gateway reads it. */
async function sharedEncryption(repo: string, remote: string): Promise<RemoteEncryption> {
  const fields = await remoteLogFields(repo, await uuidOf(repo, remote));
  const v = cipherConfigOf({ fields, gitConfig: {} });
  assert.equal(v.kind, "cipher", JSON.stringify(v));
  const enc = await remoteEncryption((v as { config: CipherConfig }).config);
  assert.equal(enc.method, "shared");
  return enc;
}

/** The names of the objects stored in a directory remote (the file under each key directory). */
async function objectNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory() && !(d === dir && e.name === "tmp")) await walk(join(d, e.name));
      else if (e.isFile()) names.push(e.name);
    }
  };
  await walk(dir);
  return names.sort();
}

function objectFile(dir: string, name: string): string {
  const k = parseKey(name);
  return join(dir, hashDirLower(k), keyFile(k), keyFile(k));
}

/** Replace a published (write-protected) object file's bytes. */
async function overwrite(file: string, bytes: Buffer): Promise<void> {
  await chmod(join(file, ".."), 0o755);
  await chmod(file, 0o644);
  await writeFile(file, bytes);
}

/** `input` encrypted by gpg with `passphrase`, as git-annex runs gpg. */
async function gpgSymmetric(passphrase: Buffer, input: Buffer): Promise<Buffer> {
  const args = ["--quiet", "--trust-model", "always", "--batch", "--passphrase-fd", "3"];
  const child = spawn("gpg", [...args, "--symmetric", "--force-mdc", "--no-textmode"], {
    stdio: ["pipe", "pipe", "inherit", "pipe"],
  });
  const exited = new Promise<number | null>((r) => child.once("close", r));
  (child.stdio[3] as Writable).end(Buffer.concat([passphrase, Buffer.from("\n")]));
  (child.stdin as Writable).end(input);
  const parts: Buffer[] = [];
  for await (const c of child.stdout as Readable) parts.push(c as Buffer);
  assert.equal(await exited, 0);
  return Buffer.concat(parts);
}

/** Files with random content, added and committed in `repo`; returns their keys. */
async function addFiles(repo: string, sizes: Record<string, number>): Promise<string[]> {
  const names = Object.keys(sizes);
  for (const n of names) await writeRandomFile(join(repo, n), sizes[n] ?? 1);
  await git(repo, ["annex", "add", "-q", ...names]);
  await git(repo, ["commit", "-q", "-m", names.join(" ")]);
  return Promise.all(names.map((n) => keyOf(repo, n)));
}

/** Bring `from`'s master (and git-annex branch) into `repo`. */
async function pull(repo: string, remote: string): Promise<void> {
  await git(repo, ["fetch", "-q", remote]);
  await git(repo, ["merge", "-q", "--no-edit", `${remote}/master`]);
}

describe("encrypted special remotes proxied by annexgate", { timeout: 300_000 }, () => {
  let root: string;
  let gw: string;
  let client: string;
  let server: RunningP2pHttp;
  let s3: RunningS3Server;
  let previousGpgHome: string | undefined;
  /** The directory of each directory remote: dHMACSHA1 ... */
  const dirs = new Map<string, string>();

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-special-encrypted-");
    // gpg (stock's and the gateway's) keeps its agent in a home of this test's.
    previousGpgHome = process.env.GNUPGHOME;
    process.env.GNUPGHOME = join(root, "gnupg");
    await mkdir(process.env.GNUPGHOME, { mode: 0o700 });
    gw = await gatewayRepo(join(root, "gw"), "gw");
    for (const mac of MACS) {
      const dir = join(root, `store-${mac}`);
      await mkdir(dir);
      dirs.set(mac, dir);
      const init = [`d${mac}`, "type=directory", `directory=${dir}`, "encryption=shared"];
      await git(gw, ["annex", "initremote", "-q", ...init, `mac=${mac}`]);
      await git(gw, ["config", `remote.d${mac}.annex-proxy`, "true"]);
    }
    // Chunked and encrypted: each chunk is encrypted, as stock does.
    const chunkedDir = join(root, "store-chunked");
    await mkdir(chunkedDir);
    dirs.set("chunked", chunkedDir);
    await git(gw, [
      "annex",
      "initremote",
      "-q",
      "dchunked",
      "type=directory",
      `directory=${chunkedDir}`,
      "encryption=shared",
      "chunk=64KiB",
    ]);
    await git(gw, ["config", "remote.dchunked.annex-proxy", "true"]);
    s3 = await startS3Server();
    const s3Uuid = await initStockS3Remote(gw, s3, "s", "annexgate-encrypted", [
      "encryption=shared",
      "mac=HMACSHA384",
      "embedcreds=yes",
    ]);
    // The gateway finds the credentials only where stock embedded them,
    // encrypted with the cipher, in remote.log.
    assert.ok((await remoteLogFields(gw, s3Uuid)).s3creds, "stock embedded the credentials");
    await rm(join(gw, ".git", "annex", "creds", s3Uuid));
    await git(gw, ["config", "remote.s.annex-proxy", "true"]);
    const out = await configCommand("annexgate", gw, ["updateproxy"]);
    for (const mac of MACS) assert.match(out, new RegExp(`Started proxying for d${mac}`));
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
  });
  after(async () => {
    await server?.stop();
    await s3?.close();
    await run("gpgconf", ["--kill", "gpg-agent"]).catch(() => undefined);
    if (previousGpgHome === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = previousGpgHome;
    await removeDir(root);
  });

  it("stock names objects as annexgate does, for every mac, and the gateway serves them", async () => {
    const [key] = await addFiles(gw, { direct: 3000 });
    for (const mac of MACS) {
      await git(gw, ["annex", "copy", "-q", "--to", `d${mac}`, "direct"]);
      const enc = await sharedEncryption(gw, `d${mac}`);
      assert.equal(enc.mac, mac);
      const dir = dirs.get(mac) as string;
      assert.deepEqual(await objectNames(dir), [encryptedName(enc, key as string)]);
    }
    await pull(client, "origin");
    // The default mac here; the others go through the gateway below.
    assert.equal(await present(client, key as string, "origin-dHMACSHA1"), true);
    await git(client, ["annex", "get", "-q", "--from", "origin-dHMACSHA1", "direct"]);
    await git(client, ["annex", "fsck", "-q", "direct"]);
  });

  it("what a client copies through the gateway, a stock clone gets and fscks directly", async () => {
    const keys = await addFiles(client, { c1: 40_000, c2: 7, c3: 0 });
    await git(client, ["annex", "copy", "-q", "--to", "origin-dHMACSHA256", "c1", "c2", "c3"]);
    const dir = dirs.get("HMACSHA256") as string;
    const enc = await sharedEncryption(gw, "dHMACSHA256");
    const names = await objectNames(dir);
    for (const k of keys) assert.ok(names.includes(encryptedName(enc, k)), k);
    // Never the plain content on the remote.
    const plain = await readFile(join(client, "c1"));
    const stored = await readFile(objectFile(dir, encryptedName(enc, keys[0] as string)));
    assert.equal(stored.includes(plain.subarray(0, 64)), false);

    const second = join(root, "second");
    await git(root, ["clone", "-q", client, second]);
    await git(second, ["annex", "init", "-q", "second"]);
    await git(second, ["annex", "enableremote", "-q", "dHMACSHA256", `directory=${dir}`]);
    await git(second, ["annex", "get", "-q", "--from", "dHMACSHA256", "c1", "c2", "c3"]);
    await git(second, ["annex", "fsck", "-q", "c1", "c2", "c3"]);
    await git(second, ["annex", "fsck", "-q", "--from", "dHMACSHA256", "c1", "c2", "c3"]);
  });

  it("a drop through the gateway removes the encrypted object", async () => {
    const [key] = await addFiles(client, { gone: 5000 });
    await git(client, ["annex", "copy", "-q", "--to", "origin-dHMACSHA224", "gone"]);
    const dir = dirs.get("HMACSHA224") as string;
    const name = encryptedName(await sharedEncryption(gw, "dHMACSHA224"), key as string);
    assert.ok((await objectNames(dir)).includes(name));
    await git(client, ["annex", "drop", "-q", "--from", "origin-dHMACSHA224", "gone"]);
    assert.equal((await objectNames(dir)).includes(name), false);
    assert.equal(await present(client, key as string, "origin-dHMACSHA224"), false);
  });

  it("a corrupt object, or one under another passphrase, is an error and nothing is stored", async () => {
    const [bad, wrong] = await addFiles(gw, { corrupt: 20_000, other: 3000 });
    const mac = "HMACSHA1";
    const dir = dirs.get(mac) as string;
    const enc = await sharedEncryption(gw, `d${mac}`);
    await git(gw, ["annex", "copy", "-q", "--to", `d${mac}`, "corrupt", "other"]);
    const corruptFile = objectFile(dir, encryptedName(enc, bad as string));
    const bytes = await readFile(corruptFile);
    const middle = bytes.length >> 1;
    bytes[middle] = (bytes[middle] ?? 0) ^ 0x55;
    await overwrite(corruptFile, bytes);
    const otherFile = objectFile(dir, encryptedName(enc, wrong as string));
    const content = await readFile(join(gw, "other"));
    await overwrite(otherFile, await gpgSymmetric(Buffer.from("another passphrase"), content));

    await pull(client, "origin");
    for (const [file, key] of [
      ["corrupt", bad],
      ["other", wrong],
    ] as const) {
      await assert.rejects(git(client, ["annex", "get", "-q", "--from", `origin-d${mac}`, file]));
      const here = await git(client, ["annex", "find", "--in", "here", file]);
      assert.equal(here.trim(), "", `${file} (${key}) was stored`);
    }
    const failures = server
      .stderr()
      .split("\n")
      .filter((l) => l.includes("GpgError"));
    assert.match(failures.join("\n"), /GpgError: gpg could not decrypt the object/);
    // The failure names no path of the gateway's machine.
    for (const l of failures) assert.ok(!l.includes(root), l);
  });

  it("chunked and encrypted: each chunk encrypted as stock does, read both ways", async () => {
    const dir = dirs.get("chunked") as string;
    const enc = await sharedEncryption(gw, "dchunked");
    /** The encrypted names of `key`'s chunks of 64 KiB, as stock names them. */
    const chunkNames = (key: string, count: number) => {
      const [head, rest] = key.split("--") as [string, string];
      return Array.from({ length: count }, (_, i) =>
        encryptedName(enc, `${head}-S65536-C${i + 1}--${rest}`),
      );
    };
    const [key] = await addFiles(client, { chunked: 150_000 });
    await git(client, ["annex", "copy", "-q", "--to", "origin-dchunked", "chunked"]);
    assert.deepEqual(await objectNames(dir), chunkNames(key as string, 3).sort());
    // A stock clone reads the chunks directly ...
    const third = join(root, "third");
    await git(root, ["clone", "-q", client, third]);
    await git(third, ["annex", "init", "-q", "third"]);
    await git(third, ["annex", "enableremote", "-q", "dchunked", `directory=${dir}`]);
    await git(third, ["annex", "fsck", "-q", "--from", "dchunked", "chunked"]);
    // ... and what stock stores chunked and encrypted, the gateway serves.
    const [direct] = await addFiles(third, { "chunked-direct": 70_000 });
    await git(third, ["annex", "copy", "-q", "--to", "dchunked", "chunked-direct"]);
    const names = await objectNames(dir);
    for (const n of chunkNames(direct as string, 2)) assert.ok(names.includes(n), n);
    await git(client, ["remote", "add", "third", third]);
    await pull(client, "third");
    await git(client, ["annex", "get", "-q", "--from", "origin-dchunked", "chunked-direct"]);
    await git(client, ["annex", "fsck", "-q", "chunked-direct"]);
    // A drop through the gateway removes every encrypted chunk.
    await git(client, ["annex", "drop", "-q", "--from", "origin-dchunked", "chunked"]);
    const left = await objectNames(dir);
    for (const n of chunkNames(key as string, 3)) assert.equal(left.includes(n), false, n);
  });

  it("an encrypted S3 remote: copy, get and drop through the gateway; stock reads it directly", async () => {
    const keys = await addFiles(client, { s1: 30_000, s2: 1 });
    await git(client, ["annex", "copy", "-q", "--to", "origin-s", "s1", "s2"]);
    for (const k of keys) assert.equal(await present(client, k, "origin-s"), true, k);
    await git(client, ["annex", "drop", "-q", "s1", "s2"]);
    await git(client, ["annex", "get", "-q", "--from", "origin-s", "s1", "s2"]);
    await git(client, ["annex", "fsck", "-q", "s1", "s2"]);
    // The gateway's own stock reads what the gateway stored through the proxy.
    await git(gw, ["annex", "fsck", "-q", "--from", "s", "--key", keys[0] as string]);
    await git(client, ["annex", "drop", "-q", "--from", "origin-s", "s2"]);
    assert.equal(await present(client, keys[1] as string, "origin-s"), false);
  });
});
