/**
 * Encrypted special remotes whose cipher or content is keyed to gpg keys
 * (`encryption=hybrid`, `pubkey`, `sharedpubkey`, and a chunked hybrid
 * one), made by stock `git annex initremote keyid=…` with a key generated
 * in the test's own gpg home, proxied by `annexgate p2phttp` running with
 * that home. For each: a stock client copies through the gateway, gets
 * back and drops; the names on the remote are the ones stock gives (what
 * stock stored directly and what the gateway stored are both named as
 * annexgate computes); a second stock clone enabling the remote directly
 * gets what the gateway stored, and the gateway serves what stock stored.
 * An S3 remote with a hybrid cipher, its credentials found only where
 * stock embedded them (encrypted with the cipher), is served the same way.
 * A gateway whose keyring has only the public key refuses the hybrid
 * remote (the reason, naming it, in its log), stores to the sharedpubkey
 * one but refuses to retrieve from it, and serves its other remotes.
 * One setup, shared by the cases, to keep stock commands few.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { hashDirLower, keyFile, parseKey } from "../../src/keys/index.js";
import { cipherConfigOf } from "../../src/peers/special/cipher-config.js";
import {
  copyPublicKey,
  generateGpgKey,
  makeGpgHome,
} from "../../src/peers/special/gpg-home.fixture.js";
import { encryptedName, remoteEncryption } from "../../src/peers/special/remote-cipher.js";
import { configCommand, gatewayRepo, keyOf } from "../helpers/cluster.js";
import { makeTempDir, removeDir, requireGitAnnex, run, writeRandomFile } from "../helpers/index.js";
import {
  initStockS3Remote,
  type RunningS3Server,
  remoteLogFields,
  startS3Server,
} from "../helpers/s3-server.js";
import {
  ANNEXGATE_BIN,
  annexHttpClone,
  type RunningP2pHttp,
  startAnnexgate,
} from "../helpers/servers.js";

/** The client a git-annex-shell session says it is (any UUID but the gateway's and its remotes'). */
const CLIENT_UUID = "6a0d2c4e-8f1b-4d3a-9e5c-7b2f4a6c8e0d";

/** The remotes, by name, with their initremote settings (keyid= added). */
const REMOTES: Readonly<Record<string, readonly string[]>> = {
  dh: ["encryption=hybrid"],
  dp: ["encryption=pubkey"],
  ds: ["encryption=sharedpubkey"],
  dhc: ["encryption=hybrid", "chunk=64KiB", "mac=HMACSHA256"],
};
const NAMES = Object.keys(REMOTES);
/** What each remote's files hold: the chunked one three chunks and a short last one. */
const SIZE: Readonly<Record<string, number>> = { dh: 3000, dp: 40_000, ds: 7, dhc: 150_000 };

const git = (cwd: string, args: readonly string[]) => run("git", args, { cwd });

/** A stock command expected to fail: its exit status and what it printed. */
function attempt(cwd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code ?? 1), out: `${stdout}${stderr}` });
    });
  });
}

/** One request to annexgate's `git-annex-shell p2pstdio` for remote `name` of `gw`: what it answered. */
async function p2pstdio(
  gw: string,
  name: string,
  request: string,
  env: Record<string, string>,
): Promise<string> {
  const uuid = (await git(gw, ["config", `remote.${name}.annex-uuid`])).trim();
  const args = [ANNEXGATE_BIN, "shell", "p2pstdio", gw, CLIENT_UUID, "--uuid", uuid];
  return run(process.execPath, args, { env, input: `VERSION 1\n${request}\n` });
}

/** The names of the objects stored in a directory remote. */
async function objectNames(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true, withFileTypes: true });
  return all
    .filter((e) => e.isFile() && !e.parentPath.startsWith(join(dir, "tmp")))
    .map((e) => e.name)
    .sort();
}

/** The OpenPGP packet tag an object starts with: 1 to public keys, 3 to a passphrase (RFC 4880 4.2). */
async function firstPacketTag(file: string): Promise<number> {
  const head = (await readFile(file))[0] ?? 0;
  return head & 0x40 ? head & 0x3f : (head >> 2) & 0x0f;
}

/** The chunk keys of `key` in chunks of `size`, as git-annex serializes them. */
function chunkKeys(key: string, size: number, total: number): string[] {
  const [head, rest] = key.split("--") as [string, string];
  const count = Math.ceil(total / size);
  return Array.from({ length: count }, (_, i) => `${head}-S${size}-C${i + 1}--${rest}`);
}

describe("gpg-keyed encrypted special remotes proxied by annexgate", { timeout: 240_000 }, () => {
  let root: string;
  let gw: string;
  let client: string;
  let direct: string;
  let server: RunningP2pHttp;
  let s3: RunningS3Server;
  let keyId: string;
  let previousGpgHome: string | undefined;
  const dirs = new Map<string, string>();
  /** Each remote's expected object name of a key, computed by annexgate's code. */
  const nameOf = new Map<string, (key: string) => string[]>();

  before(async () => {
    await requireGitAnnex();
    root = await makeTempDir("annexgate-special-encrypted-keys-");
    // Stock and the gateway share one keyring, the test's own.
    previousGpgHome = process.env.GNUPGHOME;
    process.env.GNUPGHOME = join(root, "gnupg");
    await mkdir(process.env.GNUPGHOME, { mode: 0o700 });
    keyId = await generateGpgKey(process.env.GNUPGHOME, "annexgate interop <i@test>");
    gw = await gatewayRepo(join(root, "gw"), "gw");
    const plainDir = join(root, "store-plain");
    await mkdir(plainDir);
    await git(
      gw,
      ["annex", "initremote", "-q", "dplain", "type=directory"].concat([
        `directory=${plainDir}`,
        "encryption=none",
      ]),
    );
    await git(gw, ["config", "remote.dplain.annex-proxy", "true"]);
    for (const name of NAMES) {
      const dir = join(root, `store-${name}`);
      await mkdir(dir);
      dirs.set(name, dir);
      const init = [name, "type=directory", `directory=${dir}`, `keyid=${keyId}`];
      await git(gw, ["annex", "initremote", "-q", ...init, ...(REMOTES[name] ?? [])]);
      await git(gw, ["config", `remote.${name}.annex-proxy`, "true"]);
      const uuid = (await git(gw, ["config", `remote.${name}.annex-uuid`])).trim();
      const v = cipherConfigOf({ fields: await remoteLogFields(gw, uuid), gitConfig: {} });
      assert.equal(v.kind, "cipher", name);
      if (v.kind !== "cipher") return;
      const enc = await remoteEncryption(v.config);
      nameOf.set(name, (key) =>
        (name === "dhc" ? chunkKeys(key, 65536, SIZE.dhc ?? 0) : [key]).map((k) =>
          encryptedName(enc, k),
        ),
      );
    }
    s3 = await startS3Server();
    const s3Init = ["encryption=hybrid", `keyid=${keyId}`, "embedcreds=yes"];
    const s3Uuid = await initStockS3Remote(gw, s3, "sh", "annexgate-keys", s3Init);
    assert.ok((await remoteLogFields(gw, s3Uuid)).s3creds, "stock embedded the credentials");
    // The gateway finds them only in remote.log, decrypted with the cipher.
    await rm(join(gw, ".git", "annex", "creds", s3Uuid));
    await git(gw, ["config", "remote.sh.annex-proxy", "true"]);
    await configCommand("annexgate", gw, ["updateproxy"]);
    server = await startAnnexgate(gw, ["--wideopen"]);
    client = await annexHttpClone(gw, join(root, "client"), server.port);
    // A second stock clone, enabling each remote directly.
    direct = join(root, "direct");
    await git(root, ["clone", "-q", gw, direct]);
    await git(direct, ["annex", "init", "-q", "direct"]);
    for (const name of NAMES) {
      await git(direct, ["annex", "enableremote", "-q", name, `directory=${dirs.get(name)}`]);
    }
    await git(client, ["remote", "add", "direct", direct]);
    await git(direct, ["remote", "add", "client", client]);
  });
  after(async () => {
    await server?.stop();
    await s3?.close();
    await run("gpgconf", ["--kill", "gpg-agent"]).catch(() => undefined);
    if (previousGpgHome === undefined) delete process.env.GNUPGHOME;
    else process.env.GNUPGHOME = previousGpgHome;
    await removeDir(root);
  });

  /** Files `<prefix>-<remote>` in `repo`, one per remote, added and committed; their keys by remote. */
  async function addFiles(repo: string, prefix: string): Promise<Map<string, string>> {
    const files = NAMES.map((n) => `${prefix}-${n}`);
    for (const n of NAMES) await writeRandomFile(join(repo, `${prefix}-${n}`), SIZE[n] ?? 1);
    await git(repo, ["annex", "add", "-q", ...files]);
    await git(repo, ["commit", "-q", "-m", prefix]);
    const keys = await Promise.all(files.map((f) => keyOf(repo, f)));
    return new Map(NAMES.map((n, i) => [n, keys[i] as string]));
  }

  /** `repo` takes `from`'s master and git-annex branch. */
  async function pull(repo: string, from: string): Promise<void> {
    await git(repo, ["fetch", "-q", from]);
    await git(repo, ["merge", "-q", "--no-edit", `${from}/master`]);
  }

  it("each method: copy, get back and drop through the gateway, named and read as stock does", async () => {
    const stock = await addFiles(direct, "s");
    for (const n of NAMES) await git(direct, ["annex", "copy", "-q", "--to", n, `s-${n}`]);
    const mine = await addFiles(client, "c");
    for (const n of NAMES)
      await git(client, ["annex", "copy", "-q", "--to", `origin-${n}`, `c-${n}`]);
    for (const n of NAMES) {
      const name = nameOf.get(n) as (key: string) => string[];
      const expected = [...name(stock.get(n) as string), ...name(mine.get(n) as string)].sort();
      assert.deepEqual(await objectNames(dirs.get(n) as string), expected, n);
      // Content to the public keys for pubkey and sharedpubkey, symmetric for hybrid, as stock.
      const [first] = name(mine.get(n) as string);
      const k = parseKey(first as string);
      const file = join(dirs.get(n) as string, hashDirLower(k), keyFile(k), keyFile(k));
      assert.equal(await firstPacketTag(file), n === "dp" || n === "ds" ? 1 : 3, n);
    }
    // Stock, directly, gets what the gateway stored ...
    await pull(direct, "client");
    const cFiles = NAMES.map((n) => `c-${n}`);
    await git(direct, ["annex", "get", "-q", ...cFiles]);
    // ... and the gateway serves what stock stored, and gives back what it stored.
    await pull(client, "direct");
    await git(client, ["annex", "drop", "-q", ...cFiles]);
    await git(client, ["annex", "get", "-q", ...cFiles, ...NAMES.map((n) => `s-${n}`)]);
    await git(client, ["annex", "fsck", "-q", "--fast", ...cFiles]);
    for (const n of NAMES) {
      await git(client, ["annex", "drop", "-q", "--from", `origin-${n}`, `c-${n}`]);
      const name = nameOf.get(n) as (key: string) => string[];
      assert.deepEqual(
        await objectNames(dirs.get(n) as string),
        name(stock.get(n) as string).sort(),
      );
    }
  });

  it("an S3 remote with a hybrid cipher and embedded credentials: copy, get back, drop", async () => {
    await writeRandomFile(join(client, "s3-file"), 20_000);
    await git(client, ["annex", "add", "-q", "s3-file"]);
    await git(client, ["commit", "-q", "-m", "s3-file"]);
    const key = await keyOf(client, "s3-file");
    await git(client, ["annex", "copy", "-q", "--to", "origin-sh", "s3-file"]);
    // The gateway repository's stock reads it from the bucket directly.
    await git(gw, ["annex", "fsck", "-q", "--from", "sh", "--key", key]);
    await git(client, ["annex", "drop", "-q", "s3-file"]);
    await git(client, ["annex", "get", "-q", "--from", "origin-sh", "s3-file"]);
    await git(client, ["annex", "drop", "-q", "--from", "origin-sh", "s3-file"]);
    const left = await attempt(gw, ["annex", "checkpresentkey", key, "sh"]);
    assert.equal(left.code, 1, left.out);
  });

  it("a gateway with only the public key: hybrid refused, sharedpubkey stores only, others served", async () => {
    await server.stop();
    const pubOnly = await makeGpgHome();
    try {
      await copyPublicKey(process.env.GNUPGHOME as string, pubOnly.home, keyId);
      server = await startAnnexgate(gw, ["--wideopen"], { GNUPGHOME: pubOnly.home });
      const url = `annex+http://127.0.0.1:${server.port}/git-annex/`;
      await git(client, ["config", "remote.origin.annexUrl", url]);
      for (const f of ["n-plain", "n-ds", "n-dh"]) await writeRandomFile(join(client, f), 2000);
      await git(client, ["annex", "add", "-q", "n-plain", "n-ds", "n-dh"]);
      await git(client, ["commit", "-q", "-m", "n"]);
      // Stored with the public key alone; the plain remote as ever.
      await git(client, ["annex", "copy", "-q", "--to", "origin-ds", "n-ds"]);
      await git(client, ["annex", "copy", "-q", "--to", "origin-dplain", "n-plain"]);
      const stored = await keyOf(client, "n-ds");
      await git(direct, ["annex", "checkpresentkey", stored, "ds"]);
      await git(direct, ["annex", "fsck", "-q", "--from", "ds", "--key", stored]);
      // No secret key: nothing comes back from sharedpubkey, nothing reaches hybrid.
      await git(client, ["annex", "drop", "-q", "n-ds"]);
      const failures = [
        await attempt(client, ["annex", "get", "--from", "origin-ds", "n-ds"]),
        await attempt(client, ["annex", "copy", "--to", "origin-dh", "n-dh"]),
      ];
      for (const f of failures) {
        assert.notEqual(f.code, 0, f.out);
        assert.ok(!f.out.includes(root), f.out);
        assert.doesNotMatch(f.out, /at .*\.js:\d+/);
      }
      const log = server.stderr();
      assert.match(
        log,
        new RegExp(
          `cannot reach remote dh: encryption=hybrid \\(to gpg keys: ${keyId}\\): the gateway's gpg keyring holds no secret key to decrypt its cipher`,
        ),
      );
      assert.ok(!log.includes(pubOnly.home), "the log names no gpg home");
      // Over git-annex-shell the client is told why, in words naming the remote.
      const env = { GNUPGHOME: pubOnly.home };
      const shellGet = await p2pstdio(gw, "ds", `GET 0 n-ds ${stored}`, env);
      assert.match(
        shellGet,
        new RegExp(
          `^ERROR cannot retrieve from remote ds: encryption=sharedpubkey encrypts content to gpg keys ${keyId}, and the gateway's gpg keyring holds the secret key of none of them$`,
          "m",
        ),
      );
      const shellDh = await p2pstdio(gw, "dh", `CHECKPRESENT ${stored}`, env);
      assert.match(shellDh, /^ERROR cannot reach remote dh: encryption=hybrid .*no secret key/m);
      // The plain remote is still served, by the same server.
      await git(client, ["annex", "drop", "-q", "n-plain"]);
      await git(client, ["annex", "get", "-q", "--from", "origin-dplain", "n-plain"]);
      assert.equal(server.child.exitCode, null);
    } finally {
      await pubOnly.remove();
    }
  });
});
