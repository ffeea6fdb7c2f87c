/** findS3Credentials: where git-annex finds an S3 remote's credentials (Creds.hs), in its order. */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { gpgWhole } from "../special/gpg.js";
import {
  copyPublicKey,
  encryptToKeys,
  generateGpgKey,
  makeGpgHome,
  randomCipher,
  useTempGpgHome,
} from "../special/gpg-home.fixture.js";
import {
  decodeCredPair,
  findS3Credentials,
  INSECURE_CREDENTIALS,
  MISSING_S3_CREDENTIALS,
  S3CredentialsError,
} from "./credentials.js";

const UUID = "1f4a6c0e-8d2b-4e3a-9c5f-0b7d6e5a4c3b";
const config = (fields: Record<string, string> = {}) => ({
  fields: { type: "S3", encryption: "none", ...fields },
  gitConfig: {},
});
const embedded = (login: string, secret: string) =>
  Buffer.from(`${login}\n${secret}\n`).toString("base64");

/** `plain` encrypted as git-annex encrypts embedded credentials with a shared cipher. */
function gpgEncryptBytes(passphrase: Buffer, plain: Buffer): Promise<Buffer> {
  return gpgWhole("encrypt", { keying: { kind: "symmetric", passphrase }, userOptions: [] }, plain);
}

describe("findS3Credentials", () => {
  let gitDir: string;
  before(async () => {
    gitDir = await makeTempDir();
    await mkdir(join(gitDir, "annex", "creds"), { recursive: true });
    await writeFile(join(gitDir, "annex", "creds", UUID), "cachedid\ncachedsecret\n");
  });
  after(() => removeDir(gitDir));

  it("takes the environment first, when both variables are set", async () => {
    const env = { AWS_ACCESS_KEY_ID: "envid", AWS_SECRET_ACCESS_KEY: "envsecret" };
    assert.deepEqual(await findS3Credentials(UUID, config(), { env, gitDir }), {
      accessKeyId: "envid",
      secretAccessKey: "envsecret",
    });
  });

  it("then the gateway's .git/annex/creds/<uuid>", async () => {
    const env = { AWS_ACCESS_KEY_ID: "only-one" };
    const c = await findS3Credentials(UUID, config({ s3creds: embedded("e", "s") }), {
      env,
      gitDir,
    });
    assert.deepEqual(c, { accessKeyId: "cachedid", secretAccessKey: "cachedsecret" });
  });

  it("then the embedded s3creds of an unencrypted remote", async () => {
    const c = await findS3Credentials("other-uuid", config({ s3creds: embedded("e", "s") }), {
      gitDir,
    });
    assert.deepEqual(c, { accessKeyId: "e", secretAccessKey: "s" });
  });

  it("refuses encrypted embedded credentials, and missing ones with git-annex's message", async () => {
    await assert.rejects(
      findS3Credentials("x", config({ encryption: "shared", s3creds: "AAAA" }), {}),
      (e) => e instanceof S3CredentialsError && /no usable cipher is recorded/.test(e.message),
    );
    await assert.rejects(
      findS3Credentials("x", config(), { gitDir }),
      (e) => e instanceof S3CredentialsError && e.message === MISSING_S3_CREDENTIALS,
    );
    await assert.rejects(
      findS3Credentials("x", config({ s3creds: Buffer.from("one line").toString("base64") }), {}),
      (e) => e instanceof S3CredentialsError && e.message === "bad creds",
    );
  });

  it("decrypts embedded credentials of an encryption=shared remote with its cipher", async () => {
    const restore = await useTempGpgHome();
    try {
      const cipherBytes = Buffer.from(`${"m".repeat(256)}the passphrase`);
      const passphrase = cipherBytes.subarray(256);
      const message = await gpgEncryptBytes(passphrase, Buffer.from("eid\nesecret\n"));
      const fields = {
        encryption: "shared",
        cipher: cipherBytes.toString("base64"),
        s3creds: message.toString("base64"),
      };
      const c = await findS3Credentials("x", config(fields), {});
      assert.deepEqual(c, { accessKeyId: "eid", secretAccessKey: "esecret" });
      // Stored unencrypted by an old git-annex: read as plain, as stock does.
      const old = { ...fields, s3creds: embedded("oid", "osecret") };
      const o = await findS3Credentials("x", config(old), {});
      assert.deepEqual(o, { accessKeyId: "oid", secretAccessKey: "osecret" });
    } finally {
      await restore();
    }
  });

  it("decrypts them with git's gpg.program when it is set, as git-annex does", async () => {
    const restore = await useTempGpgHome();
    const dir = await makeTempDir();
    try {
      // A gpg.program that notes each run, then is gpg.
      const log = join(dir, "runs");
      const wrapper = join(dir, "my-gpg");
      await writeFile(wrapper, `#!/bin/sh\necho run >> '${log}'\nexec gpg "$@"\n`, {
        mode: 0o755,
      });
      const cipherBytes = Buffer.from(`${"p".repeat(256)}another passphrase`);
      const message = await gpgEncryptBytes(cipherBytes.subarray(256), Buffer.from("gid\ngs\n"));
      const fields = {
        encryption: "shared",
        cipher: cipherBytes.toString("base64"),
        s3creds: message.toString("base64"),
      };
      const c = await findS3Credentials("x", config(fields), { gpgProgram: wrapper });
      assert.deepEqual(c, { accessKeyId: "gid", secretAccessKey: "gs" });
      assert.equal(await readFile(log, "utf8"), "run\n");
      // A gpg.program that is not there: a clear refusal, not plain text.
      await assert.rejects(
        findS3Credentials("x", config(fields), { gpgProgram: join(dir, "no-such-gpg") }),
        (e) => e instanceof S3CredentialsError && !e.message.includes(dir),
      );
    } finally {
      await removeDir(dir);
      await restore();
    }
  });

  it("decrypts those of hybrid, pubkey and sharedpubkey remotes with the gateway's secret key", async () => {
    const restore = await useTempGpgHome();
    const other = await makeGpgHome();
    try {
      const home = process.env.GNUPGHOME as string;
      const keyId = await generateGpgKey(home, "creds <c@test>");
      const creds = Buffer.from("kid\nksecret\n");
      const want = { accessKeyId: "kid", secretAccessKey: "ksecret" };
      // hybrid: the cipher to the key, the credentials symmetric with its passphrase.
      const full = await randomCipher(512);
      const hybrid = {
        encryption: "hybrid",
        cipher: (await encryptToKeys([keyId], full)).toString("base64"),
        cipherkeys: keyId,
        s3creds: (await gpgEncryptBytes(full.subarray(256), creds)).toString("base64"),
      };
      assert.deepEqual(await findS3Credentials("x", config(hybrid), {}), want);
      // Even when only the credentials use the cipher.
      const onlyCreds = { ...hybrid, onlyencryptcreds: "yes" };
      assert.deepEqual(await findS3Credentials("x", config(onlyCreds), {}), want);
      // pubkey and sharedpubkey: the credentials to the public key.
      const toKey = (await encryptToKeys([keyId], creds)).toString("base64");
      const macOnly = await randomCipher(256);
      const pubkey = {
        encryption: "pubkey",
        cipher: (await encryptToKeys([keyId], macOnly)).toString("base64"),
        cipherkeys: keyId,
        s3creds: toKey,
      };
      assert.deepEqual(await findS3Credentials("x", config(pubkey), {}), want);
      const sharedpubkey = {
        encryption: "sharedpubkey",
        cipher: full.toString("base64"),
        pubkeys: keyId,
        s3creds: toKey,
      };
      assert.deepEqual(await findS3Credentials("x", config(sharedpubkey), {}), want);
      // Stored in the clear under a gpg key: stock stops, calling it insecure.
      const clear = { ...hybrid, s3creds: embedded("c", "s") };
      await assert.rejects(
        findS3Credentials("x", config(clear), {}),
        (e) => e instanceof S3CredentialsError && e.message === INSECURE_CREDENTIALS,
      );
      // A keyring with the public key only: a clear refusal, naming no path.
      await copyPublicKey(home, other.home, keyId);
      process.env.GNUPGHOME = other.home;
      const noSecret = (e: unknown) =>
        e instanceof S3CredentialsError &&
        /no secret key/.test(e.message) &&
        !e.message.includes(other.home);
      await assert.rejects(findS3Credentials("x", config(sharedpubkey), {}), noSecret);
      await assert.rejects(findS3Credentials("x", config(hybrid), {}), noSecret);
      process.env.GNUPGHOME = home;
    } finally {
      await other.remove();
      await restore();
    }
  });

  it("decodes a pair as Haskell's lines does", () => {
    assert.deepEqual(decodeCredPair("a\nb\n"), { accessKeyId: "a", secretAccessKey: "b" });
    assert.deepEqual(decodeCredPair("a\nb"), { accessKeyId: "a", secretAccessKey: "b" });
    assert.equal(decodeCredPair("a\nb\nc\n"), null);
    assert.equal(decodeCredPair("a\n"), null);
  });
});
