/**
 * Keys computed by annexgate (`calcKeyOfFile`, and the client library's
 * portable `computeKey` on a Blob) against stock `git annex calckey`, on generated files: many sizes, many names (extensions long
 * and short, several, none, odd characters, leading and trailing dots,
 * non-ASCII), and every hash backend annexgate computes.
 */
import assert from "node:assert/strict";
import { openAsBlob } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { computeKey } from "../../src/client/index.js";
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

/* Only the client computes these (Node's OpenSSL has no shorter BLAKE2). */
const CLIENT_ONLY_BACKENDS = [
  "BLAKE2B160E",
  "BLAKE2B224",
  "BLAKE2B256E",
  "BLAKE2B384",
  "BLAKE2S160E",
  "BLAKE2S224",
  "SHA3_224E",
  "SHA3_384",
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
  "bom.\uFEFF1",
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

  for (const backend of [...BACKENDS, ...CLIENT_ONLY_BACKENDS]) {
    const node = BACKENDS.includes(backend);
    it(`${backend}: every file's key is stock's (${node ? "Node and client" : "client"})`, async () => {
      for (const name of NAMES) {
        const path = join(dir, name);
        const stock = (
          await run("git", ["annex", "calckey", `--backend=${backend}`, name], { cwd: dir })
        ).trim();
        const what = `${backend} ${JSON.stringify(name)}`;
        if (node) assert.equal(formatKey(await calcKeyOfFile(backend, path)), stock, what);
        const blob = await openAsBlob(path);
        const client = await computeKey(blob, { backend, fileName: path });
        assert.equal(formatKey(client), stock, `client: ${what}`);
      }
    });
  }
});
