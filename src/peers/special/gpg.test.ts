/**
 * gpg run as git-annex runs it: the exact arguments of each mode, and the
 * real gpg (a home and key of the test's own) encrypting to public keys,
 * decrypting with the secret key, and failing with a GpgError that names
 * the missing key, never gpg's home.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GpgError, gpgArgs, gpgWhole } from "./gpg.js";
import {
  copyPublicKey,
  encryptToKeys,
  generateGpgKey,
  gpgCli,
  makeGpgHome,
  useTempGpgHome,
} from "./gpg-home.fixture.js";

const COMMON = ["--quiet", "--trust-model", "always", "--batch", "--status-fd", "2"];

describe("gpgArgs", () => {
  const symmetric = { kind: "symmetric", passphrase: Buffer.from("p") } as const;
  const pubkey = { kind: "pubkey", recipients: ["AAAA1111", "BBBB2222", "AAAA1111"] } as const;

  it("symmetric: the passphrase on fd 3; the user's options before --symmetric, after --decrypt", () => {
    const user = ["--compress-algo", "none"];
    assert.deepEqual(gpgArgs("encrypt", { keying: symmetric, userOptions: user }), [
      ...COMMON,
      ...["--passphrase-fd", "3", "--compress-algo", "none"],
      ...["--symmetric", "--force-mdc", "--no-textmode"],
    ]);
    assert.deepEqual(gpgArgs("decrypt", { keying: symmetric, userOptions: ["-v"] }), [
      ...COMMON,
      ...["--passphrase-fd", "3", "--decrypt", "-v"],
    ]);
  });

  it("to public keys: each recipient once, only them (Utility/Gpg.hs pkEncTo, stdEncryptionParams False)", () => {
    assert.deepEqual(gpgArgs("encrypt", { keying: pubkey, userOptions: ["-z", "0"] }), [
      ...COMMON,
      ...["-z", "0", "--recipient", "AAAA1111", "--recipient", "BBBB2222"],
      ...["--encrypt", "--no-encrypt-to", "--no-default-recipient", "--force-mdc", "--no-textmode"],
    ]);
    // No passphrase: the secret key, and never a prompt nobody sees.
    assert.deepEqual(gpgArgs("decrypt", { keying: pubkey, userOptions: [] }), [
      ...COMMON,
      ...["--pinentry-mode", "error", "--decrypt"],
    ]);
  });
});

describe("gpg to public keys", () => {
  let restore: () => Promise<void>;
  let keyId: string;
  before(async () => {
    restore = await useTempGpgHome();
    keyId = await generateGpgKey(process.env.GNUPGHOME as string, "annexgate gpg <g@test>");
  });
  after(async () => {
    await restore();
  });

  it("encrypts what the gpg command line decrypts, and decrypts what it encrypted", async () => {
    const plain = Buffer.from("some content\n\0binary");
    const keying = { kind: "pubkey", recipients: [keyId] } as const;
    const sealed = await gpgWhole("encrypt", { keying, userOptions: [] }, plain);
    assert.equal(sealed.includes(plain), false);
    assert.deepEqual(await gpgCli(["--decrypt"], { input: sealed }), plain);
    const theirs = await encryptToKeys([keyId], plain);
    assert.deepEqual(await gpgWhole("decrypt", { keying, userOptions: [] }, theirs), plain);
  });

  it("names the key with no public key, and the one with no secret key, never gpg's home", async () => {
    const other = await makeGpgHome();
    const mine = process.env.GNUPGHOME as string;
    try {
      const keying = { kind: "pubkey", recipients: [keyId] } as const;
      process.env.GNUPGHOME = other.home;
      await assert.rejects(
        gpgWhole("encrypt", { keying, userOptions: [] }, Buffer.from("x")),
        (e: unknown) => {
          assert.ok(e instanceof GpgError);
          assert.equal(e.data.failure, "no-public-key");
          assert.deepEqual(e.data.keyIds, [keyId]);
          assert.match(e.message, new RegExp(`no usable public key .*\\(gpg keys: ${keyId}\\)$`));
          return true;
        },
      );
      // The public key alone encrypts; it does not decrypt.
      await copyPublicKey(mine, other.home, keyId);
      const sealed = await gpgWhole("encrypt", { keying, userOptions: [] }, Buffer.from("x"));
      await assert.rejects(
        gpgWhole("decrypt", { keying, userOptions: [] }, sealed),
        (e: unknown) => {
          assert.ok(e instanceof GpgError);
          assert.equal(e.data.failure, "no-secret-key");
          assert.match(
            e.message,
            /holds no secret key it is encrypted to \(gpg keys: [0-9A-F]+\)$/,
          );
          assert.ok(!e.message.includes(other.home));
          return true;
        },
      );
    } finally {
      process.env.GNUPGHOME = mine;
      await other.remove();
    }
  });
});
