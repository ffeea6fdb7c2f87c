import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BadKeyError, type BadKeyReason, formatKey, type Key, parseKey } from "./index.js";
import { keyHashPart, nonChunkKey } from "./key.js";

/*
 * Valid keys by construction, independently of the parser: backends with no
 * "-", names free of the refused characters, E-variety extensions of at most
 * 15 code points (60 bytes) plus the dot.
 */
const nameChar = fc.oneof(
  fc.constantFrom("&", "%", ":", " ", "-", "--", "_", ",", "ü", "😀", "\t", "\\", "~"),
  fc.string({ unit: "grapheme-ascii", maxLength: 4 }),
  fc.string({ unit: "grapheme", maxLength: 2 }),
);
const safeText = (maxLength: number) =>
  fc.array(nameChar, { maxLength }).map((parts) => parts.join("").replace(/[/\0\n\r]/g, "x"));
const count = fc.option(fc.nat({ max: Number.MAX_SAFE_INTEGER }), { nil: undefined });
const backend = fc.oneof(
  fc.constantFrom("SHA256E", "SHA256", "SHA1", "MD5E", "WORM", "URL", "VURL", "GITBUNDLE", "XFOOE"),
  fc.stringMatching(/^[A-Z0-9_]{1,10}$/),
);
const validKey: fc.Arbitrary<Key> = fc
  .record({
    backend,
    name: safeText(8),
    ext: safeText(4),
    size: count,
    mtime: count,
    chunkSize: count,
    chunkNumber: count,
  })
  .map(({ backend, name, ext, ...nums }) => {
    const hasExt = backend.endsWith("E") && backend !== "GITBUNDLE";
    const tail = [...ext.replace(/\./g, "")].slice(0, 15).join("");
    const key: { -readonly [P in keyof Key]: Key[P] } = {
      backend,
      name: hasExt ? name.replace(/\./g, "") + (tail === "" ? "" : `.${tail}`) : name,
    };
    for (const [field, value] of Object.entries(nums)) {
      if (value !== undefined) key[field as "size"] = value;
    }
    return key;
  })
  .filter((k) => k.name !== "." && k.name !== "..");

describe("parseKey", () => {
  it("reads every field, in git-annex's order", () => {
    assert.deepEqual(parseKey("SHA256E-s1048576--3a1fc0.tar.gz"), {
      backend: "SHA256E",
      size: 1048576,
      name: "3a1fc0.tar.gz",
    });
    assert.deepEqual(parseKey("WORM-s2-m1795612263--sub_f"), {
      backend: "WORM",
      size: 2,
      mtime: 1795612263,
      name: "sub_f",
    });
    assert.deepEqual(parseKey("SHA1-s10-m2-S4-C3--x--y"), {
      backend: "SHA1",
      size: 10,
      mtime: 2,
      chunkSize: 4,
      chunkNumber: 3,
      name: "x--y",
    });
  });

  it("leaves absent fields absent (not undefined)", () => {
    const k = parseKey("MD5--d41d8cd98f00b204e9800998ecf8427e");
    assert.deepEqual(Object.keys(k).sort(), ["backend", "name"]);
  });

  it("accepts what git-annex accepts at the edges", () => {
    // Each of these was fed to `git annex examinekey` 10.20250416 and accepted.
    const cases: Array<[string, Key]> = [
      ["SHA256--", { backend: "SHA256", name: "" }],
      ["SHA256-s10--", { backend: "SHA256", size: 10, name: "" }],
      ["SHA256-s007--x", { backend: "SHA256", size: 7, name: "x" }],
      ["SHA256---x", { backend: "SHA256", name: "-x" }],
      ["SHA256-s1---x", { backend: "SHA256", size: 1, name: "-x" }],
      ["SHA256-C1--x", { backend: "SHA256", chunkNumber: 1, name: "x" }],
      ["sha256--x", { backend: "sha256", name: "x" }],
      ["X--x", { backend: "X", name: "x" }],
      ["XE--x", { backend: "XE", name: "x" }],
      ["SHA256E--x..", { backend: "SHA256E", name: "x.." }],
      ["SHA256E--abc", { backend: "SHA256E", name: "abc" }],
      [`SHA256E--abc.${"a".repeat(63)}`, { backend: "SHA256E", name: `abc.${"a".repeat(63)}` }],
      // Extension limits apply only to E varieties; GITBUNDLE only looks like one.
      [`SHA256--abc.${"a".repeat(64)}`, { backend: "SHA256", name: `abc.${"a".repeat(64)}` }],
      [`XFOO--abc.${"a".repeat(64)}`, { backend: "XFOO", name: `abc.${"a".repeat(64)}` }],
      [
        `GITBUNDLE--u-${"a".repeat(70)}.${"b".repeat(70)}`,
        {
          backend: "GITBUNDLE",
          name: `u-${"a".repeat(70)}.${"b".repeat(70)}`,
        },
      ],
      // 31 two-byte characters plus the dot: 63 bytes.
      [`SHA256E--ü.${"ü".repeat(31)}`, { backend: "SHA256E", name: `ü.${"ü".repeat(31)}` }],
      ["SHA256E--a b&c%d:e.txt", { backend: "SHA256E", name: "a b&c%d:e.txt" }],
      // "/": addurl's URL keys, WORM keys of files in subdirectories (keyFile escapes it).
      ["URL--http://example.com/a", { backend: "URL", name: "http://example.com/a" }],
      ["WORM-s2-m1--sub/f", { backend: "WORM", size: 2, mtime: 1, name: "sub/f" }],
      ["WORM--../../etc/passwd", { backend: "WORM", name: "../../etc/passwd" }],
      ["SHA256E-s5--a/b.txt", { backend: "SHA256E", size: 5, name: "a/b.txt" }],
    ];
    for (const [text, key] of cases) assert.deepEqual(parseKey(text), key, text);
  });

  it("normalizes leading zeros the way git-annex re-serializes them", () => {
    assert.equal(formatKey(parseKey("SHA256-s007-m00--x")), "SHA256-s7-m0--x");
  });

  const refusals: Array<[string, BadKeyReason]> = [
    // git-annex refuses these too.
    ["SHA256", "syntax"],
    ["SHA256-s1", "syntax"],
    ["SHA256-s1-", "syntax"],
    ["-s1--x", "syntax"],
    ["--x", "syntax"],
    ["", "syntax"],
    ["SHA256-m1-s2--x", "syntax"],
    ["SHA256-s1-s2--x", "syntax"],
    ["SHA256-s--x", "syntax"],
    ["SHA256-s1-m--x", "syntax"],
    ["SHA256-x1--x", "syntax"],
    ["SHA256-s+1--x", "syntax"],
    ["SHA256-s-1--x", "syntax"],
    ["SHA256-s١--x", "syntax"],
    ["SHA256- s1--x", "syntax"],
    [`SHA256E--abc.${"a".repeat(64)}`, "extension-too-long"],
    [`XFOOE--abc.${"a".repeat(64)}`, "extension-too-long"],
    [`FOOE--abc.${"a".repeat(64)}`, "extension-too-long"],
    [`E--abc.${"a".repeat(64)}`, "extension-too-long"],
    [`SHA256E--ü.${"ü".repeat(32)}`, "extension-too-long"],
    // Deliberately stricter than git-annex.
    ["SHA256--a\nb", "unsafe-character"],
    ["SHA256--a\rb", "unsafe-character"],
    ["SHA256--a\0b", "unsafe-character"],
    ["SHA\n256--ab", "unsafe-character"],
    ["WORM--.", "dot-name"],
    ["WORM-s1--..", "dot-name"],
    ["SHA256-s9007199254740992--x", "number-too-large"],
    ["SHA256-m99999999999999999999--x", "number-too-large"],
    ["SHA256--a\ud800b", "ill-formed-unicode"],
    ["SHA256--a\udc00", "ill-formed-unicode"],
  ];
  for (const [text, reason] of refusals) {
    it(`refuses ${JSON.stringify(text.slice(0, 40))} (${reason})`, () => {
      assert.throws(
        () => parseKey(text),
        (e: unknown) =>
          e instanceof BadKeyError &&
          e.code === "AG_BAD_KEY" &&
          e.data.input === text &&
          e.data.reason === reason,
      );
    });
  }

  it("takes the largest safe integer", () => {
    assert.equal(parseKey("SHA256-s9007199254740991--x").size, Number.MAX_SAFE_INTEGER);
  });

  it("never fails with anything but BadKeyError, and what it accepts is safe and stable", () => {
    const piece = fc.constantFrom(
      "SHA256",
      "SHA256E",
      "WORM",
      "X",
      "E",
      "-",
      "--",
      "-s",
      "-m",
      "-S",
      "-C",
      "0",
      "12",
      ".",
      "..",
      "/",
      "\n",
      "ü",
      "😀",
      "\ud800",
      "&",
      "a".repeat(30),
    );
    const text = fc.oneof(
      fc.array(piece, { maxLength: 12 }).map((p) => p.join("")),
      fc.string(),
    );
    fc.assert(
      fc.property(text, (t) => {
        let k: Key;
        try {
          k = parseKey(t);
        } catch (e) {
          return e instanceof BadKeyError;
        }
        assert.doesNotMatch(t, /[\0\n\r]/);
        assert.deepEqual(parseKey(formatKey(k)), k);
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});

describe("formatKey", () => {
  it("writes git-annex's serialization", () => {
    assert.equal(
      formatKey({ backend: "WORM", size: 3, mtime: 1700000000, name: "a.txt" }),
      "WORM-s3-m1700000000--a.txt",
    );
    assert.equal(
      formatKey({ backend: "SHA256E", name: "h.x", chunkNumber: 2, size: 9, chunkSize: 4 }),
      "SHA256E-s9-S4-C2--h.x",
    );
    assert.equal(formatKey({ backend: "SHA1", name: "" }), "SHA1--");
  });

  it("round-trips through parseKey (property)", () => {
    fc.assert(
      fc.property(validKey, (k) => {
        const text = formatKey(k);
        assert.deepEqual(parseKey(text), k);
        assert.equal(formatKey(parseKey(text)), text);
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses hand-built keys that would read back as something else", () => {
    const bad: Key[] = [
      { backend: "", name: "x" },
      { backend: "A-s1", name: "x" },
      { backend: "A--B", name: "x" },
      { backend: "SHA256", name: "x", size: -1 },
      { backend: "SHA256", name: "x", size: 1.5 },
      { backend: "SHA256", name: "x", size: Number.NaN },
      { backend: "SHA256", name: "x", size: 2 ** 60 },
      { backend: "SHA256", name: "x", mtime: Number.POSITIVE_INFINITY },
      { backend: "SHA256", name: "a\nb" },
      { backend: "WORM", name: ".." },
      { backend: "SHA256E", name: `x.${"e".repeat(64)}` },
    ];
    for (const k of bad) assert.throws(() => formatKey(k), BadKeyError, JSON.stringify(k));
  });

  it("keeps the text of a frozen key only: a hand-built key changed later is checked again", () => {
    const parsed = parseKey("SHA256E-s007--h.x");
    assert.equal(formatKey(parsed), "SHA256E-s7--h.x");
    assert.equal(formatKey(parsed), "SHA256E-s7--h.x");
    const k: { backend: string; name: string; size?: number } = { backend: "WORM", name: "a" };
    assert.equal(formatKey(k), "WORM--a");
    k.size = 3;
    assert.equal(formatKey(k), "WORM-s3--a");
    k.name = "..";
    assert.throws(() => formatKey(k), BadKeyError);
  });
});

describe("helpers", () => {
  it("nonChunkKey drops only the chunk fields", () => {
    const k = parseKey("SHA256E-s9-m1-S4-C2--h.x");
    assert.deepEqual(nonChunkKey(k), { backend: "SHA256E", size: 9, mtime: 1, name: "h.x" });
    const whole = parseKey("SHA256E-s9--h.x");
    assert.equal(nonChunkKey(whole), whole);
  });

  it("keyHashPart is the name up to its first dot", () => {
    assert.equal(keyHashPart(parseKey("SHA256E-s1--abc.tar.gz")), "abc");
    assert.equal(keyHashPart(parseKey("SHA256-s1--abc.txt")), "abc");
    assert.equal(keyHashPart(parseKey("SHA256-s1--abc")), "abc");
  });

  it("parsed keys are frozen", () => {
    assert.ok(Object.isFrozen(parseKey("SHA1--x")));
  });
});
