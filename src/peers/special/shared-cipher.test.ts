/**
 * Reading `encryption=` and `cipher=` as git-annex does, and the encrypted
 * object names (Crypto.hs `encryptKey`). Names byte-exact with what stock
 * stores are checked against stock itself in
 * test/interop/special-encrypted.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encryptedName, encryptionOf, type SharedEncryption } from "./shared-cipher.js";

const cipher = Buffer.from(`${"A".repeat(256)}the passphrase`).toString("base64");
const config = (fields: Record<string, string>, gitConfig: Record<string, string> = {}) => ({
  fields,
  gitConfig,
});

function shared(fields: Record<string, string>, gitConfig?: Record<string, string>) {
  const v = encryptionOf(config(fields, gitConfig));
  assert.equal(v.kind, "shared", JSON.stringify(v));
  return (v as { encryption: SharedEncryption }).encryption;
}

describe("encryptionOf", () => {
  it("plain without encryption= or with encryption=none", () => {
    assert.deepEqual(encryptionOf(config({})), { kind: "none" });
    assert.deepEqual(encryptionOf(config({ encryption: "none" })), { kind: "none" });
  });

  it("a shared cipher: the HMAC key is its first 256 bytes, the passphrase the rest", () => {
    const e = shared({ encryption: "shared", cipher });
    assert.equal(e.macKey.toString(), "A".repeat(256));
    assert.equal(e.passphrase.toString(), "the passphrase");
    assert.equal(e.mac, "HMACSHA1");
  });

  it("mac= chooses the HMAC; a name git-annex does not know reads as HMACSHA1", () => {
    for (const mac of ["HMACSHA1", "HMACSHA224", "HMACSHA256", "HMACSHA384", "HMACSHA512"]) {
      assert.equal(shared({ encryption: "shared", cipher, mac }).mac, mac);
    }
    assert.equal(shared({ encryption: "shared", cipher, mac: "MD5" }).mac, "HMACSHA1");
  });

  it("takes the remote's gnupg options, split on white space", () => {
    const e = shared(
      { encryption: "shared", cipher },
      { "gnupg-options": " --compress-algo none ", "gnupg-decrypt-options": "--no-mdc-warning" },
    );
    assert.deepEqual(e.encryptOptions, ["--compress-algo", "none"]);
    assert.deepEqual(e.decryptOptions, ["--no-mdc-warning"]);
  });

  it("refuses what needs a secret key, naming why", () => {
    for (const method of ["hybrid", "pubkey", "sharedpubkey"]) {
      const v = encryptionOf(config({ encryption: method, cipher, cipherkeys: "ABCD" }));
      assert.equal(v.kind, "refused");
      assert.match(
        (v as { reason: string }).reason,
        new RegExp(`encryption=${method} is not supported`),
      );
      assert.match((v as { reason: string }).reason, /secret key/);
    }
  });

  it("refuses a cipher without its method, a method without a cipher, and bad values", () => {
    const reasons = [
      config({ cipher }),
      config({ encryption: "none", cipher }),
      config({ encryption: "shared" }),
      config({ encryption: "shared", cipher: "not base64!" }),
      config({ encryption: "shared", cipher: Buffer.from("short").toString("base64") }),
      config({ encryption: "shared", cipher, pubkeys: "ABCD" }),
      config({ encryption: "bogus", cipher }),
    ].map((c) => encryptionOf(c));
    for (const v of reasons) assert.equal(v.kind, "refused", JSON.stringify(v));
  });
});

describe("encryptedName", () => {
  const enc = (mac: string, macKey: string): SharedEncryption => ({
    mac,
    macKey: Buffer.from(macKey),
    passphrase: Buffer.from("p"),
    encryptOptions: [],
    decryptOptions: [],
  });

  it("matches git-annex's own check of HMAC-SHA1 (Crypto.hs prop_HmacSha1WithCipher_sane)", () => {
    assert.equal(
      encryptedName(enc("HMACSHA1", "foo"), "bar"),
      "GPGHMACSHA1--46b4ec586117154dacd49d664e5d63fdc88efb51",
    );
  });

  it("is GPG<mac>-- and the hex HMAC of the serialized key, for each mac", () => {
    const lengths: Record<string, number> = {
      HMACSHA1: 40,
      HMACSHA224: 56,
      HMACSHA256: 64,
      HMACSHA384: 96,
      HMACSHA512: 128,
    };
    for (const [mac, hexLength] of Object.entries(lengths)) {
      const name = encryptedName(enc(mac, "k"), "SHA256E-s1--00.bin");
      assert.match(name, new RegExp(`^GPG${mac}--[0-9a-f]{${hexLength}}$`));
    }
  });
});
