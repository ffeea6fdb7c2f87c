/**
 * Reading `encryption=`, `cipher=`, `cipherkeys=`, `pubkeys=` and `mac=`
 * as git-annex does (Encryptable.hs extractCipher). Nothing here runs
 * gpg: decrypting the cipher is remote-cipher.test.ts's.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CipherConfig, cipherConfigOf, describeCipher } from "./cipher-config.js";

const raw = Buffer.from(`${"A".repeat(256)}the passphrase`);
const cipher = raw.toString("base64");
const config = (fields: Record<string, string>, gitConfig: Record<string, string> = {}) => ({
  fields,
  gitConfig,
});

function read(fields: Record<string, string>, gitConfig?: Record<string, string>): CipherConfig {
  const v = cipherConfigOf(config(fields, gitConfig));
  assert.equal(v.kind, "cipher", JSON.stringify(v));
  return (v as { config: CipherConfig }).config;
}

describe("cipherConfigOf", () => {
  it("plain without encryption= or with encryption=none", () => {
    assert.deepEqual(cipherConfigOf(config({})), { kind: "none" });
    assert.deepEqual(cipherConfigOf(config({ encryption: "none" })), { kind: "none" });
  });

  it("a shared cipher is stored in the clear, and content is symmetric", () => {
    const c = read({ encryption: "shared", cipher });
    assert.deepEqual(c.stored, { method: "shared", cipher: raw });
    assert.equal(c.mac, "HMACSHA1");
    assert.deepEqual(c.recipients, []);
    assert.equal(c.onlyCreds, false);
  });

  it("hybrid and pubkey: the stored cipher is a gpg message to cipherkeys=", () => {
    for (const method of ["hybrid", "pubkey"] as const) {
      const c = read({ encryption: method, cipher, cipherkeys: "AAAA1111,BBBB2222" });
      assert.deepEqual(c.stored, {
        method,
        encrypted: raw,
        keyIds: ["AAAA1111", "BBBB2222"],
      });
      // Content goes to the public keys only for pubkey (Crypto.hs getGpgEncParams).
      assert.deepEqual(c.recipients, method === "pubkey" ? ["AAAA1111", "BBBB2222"] : []);
    }
  });

  it("sharedpubkey: the cipher in the clear, content to pubkeys=", () => {
    const c = read({ encryption: "sharedpubkey", cipher, pubkeys: "CCCC3333" });
    assert.deepEqual(c.stored, { method: "sharedpubkey", cipher: raw, keyIds: ["CCCC3333"] });
    assert.deepEqual(c.recipients, ["CCCC3333"]);
  });

  it("a cipher with keys and no encryption= is hybrid, as git-annex reads it", () => {
    assert.equal(read({ cipher, cipherkeys: "AAAA1111" }).stored.method, "hybrid");
  });

  it("onlyencryptcreds=yes marks the cipher as for credentials only", () => {
    const c = read({ encryption: "hybrid", cipher, cipherkeys: "A1", onlyencryptcreds: "yes" });
    assert.equal(c.onlyCreds, true);
  });

  it("mac= chooses the HMAC; a name git-annex does not know reads as HMACSHA1", () => {
    for (const mac of ["HMACSHA1", "HMACSHA224", "HMACSHA256", "HMACSHA384", "HMACSHA512"]) {
      assert.equal(read({ encryption: "shared", cipher, mac }).mac, mac);
    }
    assert.equal(read({ encryption: "shared", cipher, mac: "MD5" }).mac, "HMACSHA1");
  });

  it("takes the remote's gnupg options, split on white space", () => {
    const c = read(
      { encryption: "shared", cipher },
      { "gnupg-options": " --compress-algo none ", "gnupg-decrypt-options": "--no-mdc-warning" },
    );
    assert.deepEqual(c.encryptOptions, ["--compress-algo", "none"]);
    assert.deepEqual(c.decryptOptions, ["--no-mdc-warning"]);
  });

  it("refuses what git-annex would not read as a cipher, naming why", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ cipher }, /no gpg key ids are recorded/],
      [{ encryption: "none", cipher }, /encryption=none/],
      [{ encryption: "shared" }, /no usable cipher/],
      [{ encryption: "shared", cipher: "not base64!" }, /no usable cipher/],
      [{ encryption: "shared", cipher: "c2hvcnQ=" }, /too short/],
      [{ encryption: "shared", cipher, pubkeys: "ABCD" }, /not a shared cipher/],
      [{ encryption: "hybrid", cipher }, /encryption=hybrid but no gpg key ids/],
      [{ encryption: "sharedpubkey", cipher }, /encryption=sharedpubkey but no gpg key ids/],
      [{ encryption: "bogus", cipher }, /bad encryption=bogus/],
    ];
    for (const [fields, reason] of cases) {
      const v = cipherConfigOf(config(fields));
      assert.equal(v.kind, "refused", JSON.stringify(fields));
      assert.match((v as { reason: string }).reason, reason);
    }
  });
});

describe("describeCipher", () => {
  it("names the method and its keys as git-annex's info does", () => {
    const hybrid = read({ encryption: "hybrid", cipher, cipherkeys: "A1,B2" }).stored;
    assert.equal(describeCipher(hybrid), "hybrid (to gpg keys: A1 B2)");
    const shared = read({ encryption: "shared", cipher }).stored;
    assert.equal(describeCipher(shared), "shared (encryption key stored in git repository)");
  });
});
