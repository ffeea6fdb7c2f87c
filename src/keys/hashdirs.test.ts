import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { hashDirLower, hashDirMixed, keyFile, objectPath, parseKey } from "./index.js";

/*
 * Expected values were printed by git-annex 10.20250416:
 *   git annex examinekey --format='${hashdirmixed} ${hashdirlower} ${objectpath}\n' KEY
 */
const EXAMPLES: Array<{ key: string; mixed: string; lower: string; file: string }> = [
  {
    key: "SHA256E-s5--abc&d%e:f.txt",
    mixed: "0m/K8",
    lower: "0f8/864",
    file: "SHA256E-s5--abc&ad&se&cf.txt",
  },
  {
    key: "SHA256E--ünï😀",
    mixed: "J3/68",
    lower: "e38/d9a",
    file: "SHA256E--ünï😀",
  },
  { key: "FOO--", mixed: "zF/p6", lower: "bf6/2ce", file: "FOO--" },
  // Chunk fields are left out of the hash but kept in the file name.
  { key: "SHA1-s5-S2-C1--xyz", mixed: "Mx/M1", lower: "ad1/eea", file: "SHA1-s5-S2-C1--xyz" },
  {
    key: "SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    mixed: "XG/Vk",
    lower: "1de/e6c",
    file: "SHA256E-s5--2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  },
  // Keys with "/": a WORM key of a file in a subdirectory, an addurl URL key.
  {
    key: "WORM-s3-m1796454999--sub/dir/f.txt",
    mixed: "02/73",
    lower: "023/01c",
    file: "WORM-s3-m1796454999--sub%dir%f.txt",
  },
  {
    key: "URL--http://127.0.0.1:8080/a%20b&c=d:e",
    mixed: "xV/J6",
    lower: "7b6/bde",
    file: "URL--http&c%%127.0.0.1&c8080%a&s20b&ac=d&ce",
  },
  {
    key: "WORM--../../etc/passwd",
    mixed: "42/68",
    lower: "228/998",
    file: "WORM--..%..%etc%passwd",
  },
];

describe("hash directories and object paths", () => {
  for (const ex of EXAMPLES) {
    it(`matches git-annex for ${ex.key}`, () => {
      const k = parseKey(ex.key);
      assert.equal(hashDirMixed(k), ex.mixed);
      assert.equal(hashDirLower(k), ex.lower);
      assert.equal(keyFile(k), ex.file);
      assert.equal(objectPath(k, "mixed"), `${ex.mixed}/${ex.file}/${ex.file}`);
      assert.equal(objectPath(k, "lower"), `${ex.lower}/${ex.file}/${ex.file}`);
    });
  }

  it("escapes & first so the mapping stays one-to-one", () => {
    assert.equal(keyFile(parseKey("WORM--&s")), "WORM--&as");
    assert.equal(keyFile(parseKey("WORM--%")), "WORM--&s");
    assert.equal(keyFile(parseKey("WORM--a:b::")), "WORM--a&cb&c&c");
  });

  it("keeps every chunk of an object in the object's directory", () => {
    const whole = parseKey("SHA256E-s100--abc.bin");
    for (const text of ["SHA256E-s100-S10-C1--abc.bin", "SHA256E-s100-S10-C10--abc.bin"]) {
      const chunk = parseKey(text);
      assert.equal(hashDirMixed(chunk), hashDirMixed(whole));
      assert.equal(hashDirLower(chunk), hashDirLower(whole));
      assert.notEqual(keyFile(chunk), keyFile(whole));
    }
  });

  it("always yields the documented shapes (property)", () => {
    const name = fc
      .string({ unit: "grapheme", maxLength: 20 })
      .map((s) => s.replace(/[\0\n\r.]/g, "_"));
    fc.assert(
      fc.property(name, (n) => {
        const k = parseKey(`SHA256-s1--${n}`);
        assert.match(
          hashDirMixed(k),
          /^[0-9zqjxkmvwgpfZQJXKMVWGPF]{2}\/[0-9zqjxkmvwgpfZQJXKMVWGPF]{2}$/,
        );
        assert.match(hashDirLower(k), /^[0-9a-f]{3}\/[0-9a-f]{3}$/);
        const f = keyFile(k);
        assert.doesNotMatch(f, /[/:]/);
        assert.equal(objectPath(k, "lower").split("/").length, 4);
      }),
    );
  });
});
