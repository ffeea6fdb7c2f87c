/**
 * A remote's cipher made usable, with the real gpg in a gpg home of the
 * test's own: hybrid and pubkey ciphers decrypted with the secret key (a
 * key generated here), the HMAC key and content keying each method
 * gives, a clear refusal without the secret key; and the object names
 * (Crypto.hs encryptKey). Names byte-exact with what stock stores are
 * checked against stock itself in test/interop/special-encrypted*.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CipherConfig, cipherConfigOf } from "./cipher-config.js";
import {
  copyPublicKey,
  copySecretKey,
  encryptToKeys,
  generateGpgKey,
  makeGpgHome,
  randomCipher,
  useTempGpgHome,
} from "./gpg-home.fixture.js";
import { CipherUnavailableError, encryptedName, remoteEncryption } from "./remote-cipher.js";

function cfg(fields: Record<string, string>): CipherConfig {
  const v = cipherConfigOf({ fields, gitConfig: {} });
  assert.equal(v.kind, "cipher", JSON.stringify(v));
  return (v as { config: CipherConfig }).config;
}

describe("remoteEncryption", () => {
  let restore: () => Promise<void>;
  let keyId: string;
  before(async () => {
    restore = await useTempGpgHome();
    keyId = await generateGpgKey(process.env.GNUPGHOME as string, "annexgate test <t@test>");
  });
  after(async () => {
    await restore();
  });

  it("shared: the first 256 bytes key the HMAC, the rest is the passphrase", async () => {
    const cipher = Buffer.from(`${"A".repeat(256)}the passphrase`);
    const e = await remoteEncryption(
      cfg({ encryption: "shared", cipher: cipher.toString("base64") }),
    );
    assert.equal(e.macKey.toString(), "A".repeat(256));
    assert.deepEqual(e.keying, { kind: "symmetric", passphrase: Buffer.from("the passphrase") });
  });

  it("hybrid: the cipher decrypted with the secret key, then as shared", async () => {
    const cipher = await randomCipher(512);
    const encrypted = await encryptToKeys([keyId], cipher);
    const e = await remoteEncryption(
      cfg({ encryption: "hybrid", cipher: encrypted.toString("base64"), cipherkeys: keyId }),
    );
    assert.equal(e.method, "hybrid");
    assert.deepEqual(e.macKey, cipher.subarray(0, 256));
    assert.deepEqual(e.keying, { kind: "symmetric", passphrase: cipher.subarray(256) });
  });

  it("pubkey: the decrypted cipher keys the HMAC whole; content goes to cipherkeys", async () => {
    const cipher = await randomCipher(256);
    const encrypted = await encryptToKeys([keyId], cipher);
    const e = await remoteEncryption(
      cfg({ encryption: "pubkey", cipher: encrypted.toString("base64"), cipherkeys: keyId }),
    );
    assert.deepEqual(e.macKey, cipher);
    assert.deepEqual(e.keying, { kind: "pubkey", recipients: [keyId] });
  });

  it("sharedpubkey: the clear cipher keys the HMAC whole; content goes to pubkeys, no gpg run", async () => {
    const cipher = await randomCipher(512);
    const e = await remoteEncryption(
      cfg({ encryption: "sharedpubkey", cipher: cipher.toString("base64"), pubkeys: "ABCD1234" }),
    );
    assert.deepEqual(e.macKey, cipher);
    assert.deepEqual(e.keying, { kind: "pubkey", recipients: ["ABCD1234"] });
  });

  it("without the secret key: refused, naming the method and its keys", async () => {
    const cipher = await randomCipher(512);
    const encrypted = await encryptToKeys([keyId], cipher);
    const other = await makeGpgHome();
    const mine = process.env.GNUPGHOME;
    try {
      // Only the public key: what a gateway that was never given the secret one holds.
      await copyPublicKey(mine as string, other.home, keyId);
      process.env.GNUPGHOME = other.home;
      const c = cfg({
        encryption: "hybrid",
        cipher: encrypted.toString("base64"),
        cipherkeys: keyId,
      });
      await assert.rejects(remoteEncryption(c), (e: unknown) => {
        assert.ok(e instanceof CipherUnavailableError, String(e));
        assert.equal(
          e.message,
          `encryption=hybrid (to gpg keys: ${keyId}): the gateway's gpg keyring holds no secret key to decrypt its cipher`,
        );
        assert.ok(!e.message.includes(other.home));
        return true;
      });
      // Once the keyring holds the secret key, the same cipher decrypts:
      // a failure is not remembered.
      await copySecretKey(mine as string, other.home, keyId);
      assert.deepEqual((await remoteEncryption(c)).macKey, cipher.subarray(0, 256));
    } finally {
      process.env.GNUPGHOME = mine;
      await other.remove();
    }
  });

  it("a decrypted cipher too short to be git-annex's is refused", async () => {
    const encrypted = await encryptToKeys([keyId], Buffer.from("short"));
    const c = cfg({
      encryption: "hybrid",
      cipher: encrypted.toString("base64"),
      cipherkeys: keyId,
    });
    await assert.rejects(remoteEncryption(c), /too short to be one git-annex made/);
  });
});

describe("encryptedName", () => {
  const enc = (mac: string, macKey: string) => ({ mac, macKey: Buffer.from(macKey) });

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
