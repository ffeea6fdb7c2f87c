/**
 * Keys computed by annexgate (`calcKeyOfFile`) against stock `git annex
 * calckey`, on generated files: many sizes, many names (extensions long
 * and short, several, none, odd characters, leading and trailing dots,
 * non-ASCII), and every hash backend annexgate computes.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { calcKeyOfFile, formatKey } from "../../src/keys/index.js";
import { gitAnnexRepo, makeTempDir, removeDir, run } from "../helpers/index.js";
import { prng } from "../helpers/prng.js";

const BACKENDS = [
  "SHA256E",
  "SHA256",
  "SHA512E",
  "SHA384E",
  "SHA224",
  "SHA1E",
  "MD5E",
  "SHA3_256E",
  "SHA3_512",
  "BLAKE2B512E",
  "BLAKE2S256E",
];

const NAMES = [
  "plain",
  "photo.jpg",
  "photo.JPEG",
  "archive.tar.gz",
  "backup.tar.gz.bz2",
  "long.extension",
  "x.jpeg2",
  "a.b.c.d.e",
  ".hidden",
  "..dots.txt",
  "trailing.dot.",
  "double..dot",
  "odd.a-b",
  "space.t xt",
  "under.sc_re",
  "num.12345",
  "num.1234.7z",
  "ünïcödé.mp3",
  "datei.größe",
  "x.日本",
  "mixed.Tar.GZ",
];

const SIZES = [0, 1, 4095, 65_536 + 3, 1_048_576 + 7];

describe("keys as git annex calckey computes them", { timeout: 300_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir("annexgate-calckey-");
    await gitAnnexRepo(dir, "calckey");
    const next = prng(2026);
    for (const [i, name] of NAMES.entries()) {
      const data = Buffer.alloc(SIZES[i % SIZES.length] as number);
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(next() * 256);
      await writeFile(join(dir, name), data);
    }
  });
  after(() => removeDir(dir));

  for (const backend of BACKENDS) {
    it(`${backend}: every file's key is stock's`, async () => {
      for (const name of NAMES) {
        const path = join(dir, name);
        const stock = (
          await run("git", ["annex", "calckey", `--backend=${backend}`, name], { cwd: dir })
        ).trim();
        const ours = formatKey(await calcKeyOfFile(backend, path));
        assert.equal(ours, stock, `${backend} ${JSON.stringify(name)}`);
      }
    });
  }
});
