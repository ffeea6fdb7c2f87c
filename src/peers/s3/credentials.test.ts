/** findS3Credentials: where git-annex finds an S3 remote's credentials (Creds.hs), in its order. */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeTempDir, removeDir } from "../../../test/helpers/index.js";
import { gpgEncrypt } from "../special/gpg.js";
import { useTempGpgHome } from "../special/gpg-home.fixture.js";
import {
  decodeCredPair,
  findS3Credentials,
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
async function gpgEncryptBytes(passphrase: Buffer, plain: Buffer): Promise<Buffer> {
  const gpg = gpgEncrypt({ passphrase, userOptions: [] });
  const parts: Buffer[] = [];
  gpg.output.on("data", (c: Buffer) => parts.push(c));
  gpg.input.end(plain);
  await gpg.done;
  return Buffer.concat(parts);
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
      (e) => e instanceof S3CredentialsError && /not supported yet/.test(e.message),
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
      // A cipher that needs a secret key: refused.
      const hybrid = { ...fields, encryption: "hybrid", cipherkeys: "0123456789ABCDEF" };
      await assert.rejects(
        findS3Credentials("x", config(hybrid), {}),
        (e) => e instanceof S3CredentialsError && /not supported yet/.test(e.message),
      );
    } finally {
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
