import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  BadKeyError,
  type Key,
  parseKey,
  receiveVerification,
  UnverifiableKeyError,
  type UnverifiableReason,
  type Verifier,
  verificationFor,
  verifyFile,
} from "./index.js";

const HELLO = Buffer.from("hello");
const HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

function verifier(key: Key): Verifier {
  const v = verificationFor(key);
  assert.equal(v.kind, "hash");
  return v.create();
}

function check(key: Key, data: Uint8Array): boolean {
  const v = verifier(key);
  v.update(data);
  return v.matches();
}

describe("verificationFor", () => {
  // Digests of "hello" as printed by `git annex calckey --backend=B` (10.20250416).
  const HELLO_KEYS = [
    `SHA256E-s5--${HELLO_SHA256}.txt`,
    `SHA256-s5--${HELLO_SHA256}`,
    "SHA3_256E-s5--3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392",
    "BLAKE2S256-s5--19213bacc58dee6dbde3ceb9a47cbb330b3d86f8cca8997eb00be456f140ca25",
    "BLAKE2B512-s5--e4cfa39a3d37be31c59609e807970799caa68a19bfaa15135f165085e01d41a65ba1e1b146aeb6bd0092b49eac214c103ccfa3a365954bbbe52f74a2b3620c94",
    "MD5E-s5--5d41402abc4b2a76b9719d911017c592.a.b",
    "SHA1-s5--aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
  ];
  for (const text of HELLO_KEYS) {
    it(`checks ${text.split("-")[0]} content`, () => {
      const k = parseKey(text);
      assert.equal(check(k, HELLO), true);
      assert.equal(check(k, Buffer.from("hellp")), false);
    });
  }

  it("checks the key's size as well as its digest", () => {
    const sizeless = parseKey(`SHA256--${HELLO_SHA256}`);
    assert.equal(check(sizeless, HELLO), true);
    const wrongSize = parseKey(`SHA256-s6--${HELLO_SHA256}`);
    assert.equal(check(wrongSize, HELLO), false);
  });

  it("compares with the hash part before the first dot, for E and non-E keys", () => {
    assert.equal(check(parseKey(`SHA256E-s5--${HELLO_SHA256}.tar.gz`), HELLO), true);
    // An old buggy migration left extensions in non-E keys; git-annex still verifies them.
    assert.equal(check(parseKey(`SHA256-s5--${HELLO_SHA256}.txt`), HELLO), true);
  });

  it("accepts the legacy leading backslash git-annex still accepts", () => {
    assert.equal(check(parseKey(`SHA256-s5--\\${HELLO_SHA256}`), HELLO), true);
    assert.equal(check(parseKey(`SHA256-s5--\\\\${HELLO_SHA256}`), HELLO), false);
  });

  it("is exact about hex case, as git-annex is", () => {
    assert.equal(check(parseKey(`SHA256-s5--${HELLO_SHA256.toUpperCase()}`), HELLO), false);
  });

  it("checks GITBUNDLE keys by the SHA-256 after the last dash", () => {
    const k = parseKey(`GITBUNDLE-s5--3f2c9a4e-1b7d-4e2a-9c1d-5e6f7a8b9c0d-${HELLO_SHA256}`);
    assert.equal(check(k, HELLO), true);
    assert.equal(check(k, Buffer.from("hellp")), false);
  });

  it("gives the same answer however the content is split (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000)), (data, cuts) => {
        const digest = createHash("sha512").update(data).digest("hex");
        const k = parseKey(`SHA512E-s${data.length}--${digest}.bin`);
        const v = verifier(k);
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          const end = Math.min(cut, data.length);
          if (end < at) continue;
          v.update(data.subarray(at, end));
          at = end;
        }
        v.update(data.subarray(at));
        return v.matches() && v.matches();
      }),
    );
  });

  it("refuses updates after the answer", () => {
    const v = verifier(parseKey(`SHA256-s5--${HELLO_SHA256}`));
    v.update(HELLO);
    v.matches();
    assert.throws(() => v.update(HELLO), { code: "AG_VERIFIER_FINISHED" });
  });

  it("gives a fresh verifier on every create()", () => {
    const v = verificationFor(parseKey(`SHA256-s5--${HELLO_SHA256}`));
    assert.equal(v.kind, "hash");
    if (v.kind !== "hash") return;
    const a = v.create();
    a.update(HELLO);
    const b = v.create();
    b.update(HELLO);
    assert.equal(a.matches(), true);
    assert.equal(b.matches(), true);
  });

  for (const text of ["WORM-s5-m1700000000--a.txt", "URL--http&c%%x", "GITMANIFEST--u.bak"]) {
    it(`stores ${text.split("-")[0]} unverified, as git-annex does`, () => {
      assert.deepEqual(verificationFor(parseKey(text)), { kind: "none" });
    });
  }

  const unverifiable: Array<[string, UnverifiableReason]> = [
    [
      "BLAKE2B256-s5--324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf",
      "unsupported-hash",
    ],
    ["BLAKE2B160E-s5--x.txt", "unsupported-hash"],
    ["BLAKE2S160-s5--x", "unsupported-hash"],
    ["BLAKE2BP512-s5--x", "unsupported-hash"],
    ["BLAKE2SP256E-s5--x", "unsupported-hash"],
    ["SKEIN256-s5--x", "unsupported-hash"],
    ["SKEIN512E-s5--x", "unsupported-hash"],
    ["XFOO-s5--x", "external-backend"],
    ["XFOOE-s5--x.y", "external-backend"],
    ["VURL-s5--http&c%%x", "equivalent-keys"],
    [`SHA256E-s5-S2-C1--${HELLO_SHA256}`, "chunk-key"],
    ["WORM-s5-m1-S2-C1--x", "chunk-key"],
    ["FOO--x", "unknown-backend"],
    ["sha256--x", "unknown-backend"],
    ["SHA257--x", "unknown-backend"],
  ];
  for (const [text, reason] of unverifiable) {
    it(`cannot verify ${text.split("-")[0]} (${reason})`, () => {
      assert.throws(
        () => verificationFor(parseKey(text)),
        (e: unknown) =>
          e instanceof UnverifiableKeyError &&
          e.code === "AG_UNVERIFIABLE_KEY" &&
          e.data.reason === reason,
      );
    });
  }
});

describe("receiveVerification", () => {
  // What stock git-annex 10.20250416's p2phttp answered to a put of "hello"
  // under each key (stored: true / false), and why.
  it("checks a chunk key as written: its bytes against its hash part and size", () => {
    const hashChunk = receiveVerification(parseKey(`SHA256E-s5-S5-C1--${HELLO_SHA256}.txt`));
    assert.equal(hashChunk.kind, "hash");
    if (hashChunk.kind !== "hash") return;
    const v = hashChunk.create();
    v.update(HELLO);
    assert.equal(v.matches(), true); // stock: stored true
    const other = receiveVerification(parseKey("SHA256E-s5-S2-C1--abc"));
    assert.equal(other.kind, "hash");
    if (other.kind !== "hash") return;
    const w = other.create();
    w.update(HELLO);
    assert.equal(w.matches(), false); // stock: stored false
    assert.deepEqual(receiveVerification(parseKey("WORM-s5-S2-C1--abc")), { kind: "none" });
  });

  it("stores unknown and external backends on their size alone, as git-annex does", () => {
    for (const k of ["FOOBAR-s5--abc", "XFOO-s5--abc", "FOOBAR-s5-S5-C1--abc", "FOOBAR--x"]) {
      assert.deepEqual(receiveVerification(parseKey(k)), { kind: "none" }, k);
    }
  });

  it("refuses what git-annex would check and annexgate cannot", () => {
    assert.deepEqual(receiveVerification(parseKey("SKEIN256-s5--abc")), {
      kind: "refuse",
      reason: "unsupported-hash",
    });
    assert.deepEqual(receiveVerification(parseKey("VURL-s5--http&c%%x")), {
      kind: "refuse",
      reason: "equivalent-keys",
    });
  });
});

describe("verifyFile", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "annexgate-verify-"));
    await writeFile(join(dir, "hello"), HELLO);
    await writeFile(join(dir, "hellp"), "hellp");
    await writeFile(join(dir, "long"), "hello!");
    await writeFile(join(dir, "big"), Buffer.alloc(3 * 65536 + 7, 0xa5));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("says whether a file is a hash key's content", async () => {
    const k = parseKey(`SHA256E-s5--${HELLO_SHA256}.txt`);
    assert.equal(await verifyFile(k, join(dir, "hello")), true);
    assert.equal(await verifyFile(k, join(dir, "hellp")), false);
    assert.equal(await verifyFile(k, join(dir, "long")), false);
  });

  it("streams files larger than one read", async () => {
    const data = Buffer.alloc(3 * 65536 + 7, 0xa5);
    const digest = createHash("sha1").update(data).digest("hex");
    assert.equal(
      await verifyFile(parseKey(`SHA1-s${data.length}--${digest}`), join(dir, "big")),
      true,
    );
    assert.equal(await verifyFile(parseKey(`SHA1--${digest}`), join(dir, "big")), true);
    assert.equal(
      await verifyFile(parseKey(`SHA1--${digest.replace(/^./, "0")}`), join(dir, "big")),
      false,
    );
  });

  it("checks only the size of unverified keys", async () => {
    assert.equal(await verifyFile(parseKey("WORM-s5-m1--x"), join(dir, "hellp")), true);
    assert.equal(await verifyFile(parseKey("WORM-m1--x"), join(dir, "long")), true);
    assert.equal(await verifyFile(parseKey("WORM-s5-m1--x"), join(dir, "long")), false);
  });

  it("passes on unverifiable keys and missing files as errors", async () => {
    await assert.rejects(
      verifyFile(parseKey("SKEIN256-s5--x"), join(dir, "hello")),
      UnverifiableKeyError,
    );
    await assert.rejects(verifyFile(parseKey(`SHA256-s5--${HELLO_SHA256}`), join(dir, "absent")), {
      code: "ENOENT",
    });
  });

  it("stops when its signal aborts", async () => {
    const k = parseKey(`SHA256--${HELLO_SHA256}`);
    await assert.rejects(verifyFile(k, join(dir, "big"), { signal: AbortSignal.abort() }), {
      name: "AbortError",
    });
  });
});

describe("verificationFor on hand-built keys", () => {
  it("refuses a malformed key before any content", () => {
    assert.throws(() => verificationFor({ backend: "WORM", name: "a\nb" }), BadKeyError);
    assert.throws(() => verificationFor({ backend: "SHA256", name: "x", size: -1 }), BadKeyError);
  });
});
