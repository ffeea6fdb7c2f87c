/**
 * Encrypted special remotes (`encryption=shared`): what gpg costs the
 * gateway. One file of SIZE (default 64M) is stored through the special
 * remote Peer (hashing as it streams) into a directory storage and read
 * back whole, for:
 *
 *  - plain:        no encryption (the baseline);
 *  - gpg:          EncryptedStorage, gpg run as git-annex runs it (gpg's
 *                  default compression on);
 *  - gpg-nocompress: the same with `annex-gnupg-options=--compress-algo none`;
 *  - stock:        stock `git annex copy --to` then `get --from` an
 *                  encryption=shared directory remote (same gpg), for scale.
 *
 * Reported: MiB/s each way, and the peak RSS of this process and of its
 * children (gpg; for stock, git-annex and its gpg) while each phase runs.
 *
 * Usage: node dist/bench/encryption.js [SIZE]   Env: BENCH_STOCK=0 skips stock.
 */
import { createReadStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseKey } from "../src/keys/index.js";
import { DirectoryStorage } from "../src/peers/directory/directory-storage.js";
import { EncryptedStorage } from "../src/peers/special/encrypted-storage.js";
import type { RemoteEncryption } from "../src/peers/special/remote-cipher.js";
import { SpecialPeer } from "../src/peers/special/special-peer.js";
import type { SpecialStorage } from "../src/peers/special/storage.js";
import { gatewayRepo, keyOf } from "../test/helpers/cluster.js";
import { makeTempDir, removeDir, run } from "../test/helpers/index.js";
import {
  benchMain,
  firstArg,
  fixed,
  MiB,
  parseSize,
  printTable,
  RssSampler,
  timed,
  writeRandomFile,
} from "./common.js";

const UUID = "0f4f7a2e-9a51-4b7e-8d44-1b3c2a6e5f10";

function encryption(encryptOptions: string[]): RemoteEncryption {
  return {
    method: "shared",
    mac: "HMACSHA1",
    macKey: Buffer.alloc(256, 7),
    keying: { kind: "symmetric", passphrase: Buffer.from("bench passphrase") },
    encryptOptions,
    decryptOptions: [],
  };
}

benchMain("encryption", async (cleanup) => {
  const size = parseSize(firstArg() ?? process.env.BENCH_SIZE ?? "64M");
  const root = await makeTempDir("annexgate-bench-encryption-");
  cleanup.add(() => removeDir(root));
  process.env.GNUPGHOME = join(root, "gnupg");
  await mkdir(process.env.GNUPGHOME, { mode: 0o700 });
  cleanup.add(() => run("gpgconf", ["--kill", "gpg-agent"]));
  // The content lives in a git-annex repository, so stock can copy it too.
  const repo = await gatewayRepo(join(root, "repo"), "bench");
  await writeRandomFile(join(repo, "big"), size);
  await run("git", ["annex", "add", "-q", "big"], { cwd: repo });
  await run("git", ["commit", "-q", "-m", "big"], { cwd: repo });
  const keyText = await keyOf(repo, "big");
  const key = parseKey(keyText);
  const file = join(repo, "big");

  const sampler = new RssSampler(process.pid, 50);
  await sampler.start();
  const rows: string[][] = [];
  const mibs = (seconds: number) => fixed(size / MiB / seconds);

  const variants: [string, (dir: string) => SpecialStorage][] = [
    ["plain", (d) => new DirectoryStorage(d)],
    ["gpg", (d) => new EncryptedStorage(new DirectoryStorage(d), encryption([]))],
    [
      "gpg-nocompress",
      (d) => new EncryptedStorage(new DirectoryStorage(d), encryption(["--compress-algo", "none"])),
    ],
  ];
  for (const [name, make] of variants) {
    const dir = join(root, name);
    await mkdir(dir);
    const peer = new SpecialPeer({ uuid: UUID, storage: make(dir) });
    await sampler.mark();
    const putS = await timed(async () => {
      const r = await peer.store({ key, offset: 0, length: size, data: createReadStream(file) });
      if (!r.stored) throw new Error(`${name}: not stored`);
    });
    const putPeak = await sampler.mark();
    const getS = await timed(async () => {
      const r = await peer.retrieve(key, 0);
      if (r === null) throw new Error(`${name}: absent`);
      await pipeline(r.data, new Writable({ write: (_c, _e, cb) => cb() }));
      if (!(await r.valid)) throw new Error(`${name}: not valid`);
    });
    const getPeak = await sampler.mark();
    await peer.close();
    rows.push([
      name,
      mibs(putS),
      mibs(getS),
      fixed(Math.max(putPeak.main, getPeak.main) / 1024),
      fixed(Math.max(putPeak.tree - putPeak.main, getPeak.tree - getPeak.main) / 1024),
    ]);
  }

  if (process.env.BENCH_STOCK !== "0") {
    const dir = join(root, "stock");
    await mkdir(dir);
    const init = ["annex", "initremote", "-q", "d", "type=directory", `directory=${dir}`];
    await run("git", [...init, "encryption=shared"], { cwd: repo });
    await sampler.mark();
    const putS = await timed(() =>
      run("git", ["annex", "copy", "-q", "--to", "d", "big"], { cwd: repo }),
    );
    const putPeak = await sampler.mark();
    await run("git", ["annex", "drop", "-q", "big"], { cwd: repo });
    const getS = await timed(() =>
      run("git", ["annex", "get", "-q", "--from", "d", "big"], { cwd: repo }),
    );
    const getPeak = await sampler.mark();
    rows.push([
      "stock git-annex",
      mibs(putS),
      mibs(getS),
      "-",
      fixed(Math.max(putPeak.tree - putPeak.main, getPeak.tree - getPeak.main) / 1024),
    ]);
  }
  await sampler.stop();
  const stored = await stat(file);
  process.stdout.write(`object: ${fixed(stored.size / MiB)} MiB of random bytes, key ${keyText}\n`);
  printTable(["storage", "put MiB/s", "get MiB/s", "node RSS MiB", "children RSS MiB"], rows);
});
