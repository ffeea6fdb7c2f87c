import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatKey, parseKey } from "./key.js";
import { fileKey, keyOfLinkOrPointer, MAX_POINTER_SIZE } from "./link.js";
import { keyFile } from "./locations.js";

const K = "SHA256E-s6--65110ea3b8b62b0c09742c368bf1527f0978b06dff7a1371ef7b4c98e244d91a.txt";

describe("fileKey", () => {
  it("undoes keyFile's escaping", () => {
    for (const text of [
      K,
      "SHA256E-s5--abc&d%e:f.txt",
      "WORM-s3-m1--a/b/c&&%%::",
      "URL--http&c//x/y%z",
    ]) {
      const key = parseKey(text);
      assert.equal(formatKey(fileKey(keyFile(key)) ?? parseKey("X--x")), text);
    }
  });

  it("is null for a name that is not a key", () => {
    assert.equal(fileKey("not a key"), null);
    assert.equal(fileKey(""), null);
  });
});

describe("keyOfLinkOrPointer", () => {
  const key = (b: string) => {
    const k = keyOfLinkOrPointer(Buffer.from(b));
    return k === null ? null : formatKey(k);
  };

  it("reads a locked file's symlink target, however deep", () => {
    assert.equal(key(`../../.git/annex/objects/Xq/9F/${K}/${K}`), K);
    assert.equal(key(`.git/annex/objects/Xq/9F/${K}/${K}`), K);
  });

  it("reads an unlocked file's pointer, with CRLF or further tagged lines", () => {
    assert.equal(key(`/annex/objects/${K}\n`), K);
    assert.equal(key(`/annex/objects/${K}`), K);
    assert.equal(key(`/annex/objects/${K}\r\n`), K);
    assert.equal(key(`/annex/objects/${K}\n/annex/more\n`), K);
  });

  it("is null for other content, and for a pointer with content appended", () => {
    assert.equal(key("hello\n"), null);
    assert.equal(key(`some/other/${K}`), null);
    assert.equal(key(`/annex/objects/${K}\nappended data\n`), null);
    assert.equal(key(`/annex/objects/${K}\n/annex/unterminated`), null);
    const big = Buffer.alloc(MAX_POINTER_SIZE + 1, 0x0a);
    Buffer.from(`/annex/objects/${K}`).copy(big);
    assert.equal(keyOfLinkOrPointer(big), null);
  });
});
