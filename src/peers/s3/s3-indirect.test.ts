import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { S3Client } from "@aws-sdk/client-s3";
import { formatKey, parseKey } from "../../keys/index.js";
import {
  indirectNaming,
  indirectRefusal,
  MIN_PART_SIZE,
  S3IndirectStorage,
  stagingDeadline,
} from "./s3-indirect.js";
import type { S3Settings } from "./s3-settings.js";

const config = (fields: Record<string, string>) => ({
  fields: { type: "S3", bucket: "b", ...fields },
  gitConfig: {},
});

describe("which S3 remotes take indirect uploads", () => {
  it("a plain, unchunked remote does, encrypted credentials alone included", () => {
    assert.equal(indirectRefusal(config({ encryption: "none" })), null);
    assert.equal(indirectRefusal(config({ chunk: "0" })), null);
    assert.equal(
      indirectRefusal(
        config({ encryption: "shared", cipher: "A".repeat(400), onlyencryptcreds: "yes" }),
      ),
      null,
    );
  });

  it("chunked, encrypted and export remotes do not, and say why", () => {
    assert.deepEqual(indirectRefusal(config({ chunk: "1MiB" })), {
      unavailable: "the remote is chunked",
    });
    assert.deepEqual(indirectRefusal(config({ chunksize: "1MiB" })), {
      unavailable: "the remote is chunked",
    });
    assert.deepEqual(indirectRefusal(config({ encryption: "shared", cipher: "A".repeat(400) })), {
      unavailable: "the remote is encrypted",
    });
    assert.deepEqual(indirectRefusal(config({ exporttree: "yes" })), {
      unavailable: "the remote is an export remote without annexobjects=yes",
    });
  });

  it("an export remote with annexobjects does, to its annexobjects copy, staged under .git/", () => {
    const special = config({ exporttree: "yes", annexobjects: "yes", chunk: "1MiB" });
    assert.equal(indirectRefusal(special), null);
    const key = parseKey(`SHA256E-s5--${"ab".repeat(32)}.dat`);
    const naming = indirectNaming(special);
    assert.match(
      naming.keyName(key),
      /^\.git\/annex\/objects\/[0-9a-f]{3}\/[0-9a-f]{3}\/(SHA256E-s5--[0-9a-f]{64}\.dat)\/\1$/,
    );
    assert.equal(naming.stagingDir, ".git/annexgate-indirect/");
    assert.equal(indirectNaming(config({})).keyName(key), formatKey(key));
  });
});

describe("staging names", () => {
  it("carry their deadline; nothing else is taken for one", () => {
    assert.equal(stagingDeadline(`annexgate-indirect/1700000000-${"ab".repeat(16)}`), 1700000000);
    const inGit = `.git/annexgate-indirect/1700000000-${"ab".repeat(16)}`;
    assert.equal(stagingDeadline(inGit, ".git/annexgate-indirect/"), 1700000000);
    assert.equal(stagingDeadline(inGit), null);
    for (const name of [
      "SHA256E-s1--00",
      `annexgate-indirect/1700000000-${"AB".repeat(16)}`,
      `annexgate-indirect/x-${"ab".repeat(16)}`,
      `other/1700000000-${"ab".repeat(16)}`,
      `annexgate-indirect/1700000000-${"ab".repeat(16)}/more`,
    ]) {
      assert.equal(stagingDeadline(name), null, name);
    }
  });
});

describe("part sizes", () => {
  const settings: S3Settings = {
    bucket: "b",
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    pathStyle: true,
    filePrefix: "",
    storageClass: "STANDARD",
    metadata: {},
    publicRead: false,
    partSize: 64 * 1024,
  };
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: "k", secretAccessKey: "s" },
  });

  it("a remote's partsize= under S3's smallest part is raised to it (no S3 request: one PUT)", async () => {
    const storage = new S3IndirectStorage(client, settings);
    for (const size of [200_000, MIN_PART_SIZE]) {
      const staged = await storage.stage(size, { expiresSeconds: 60 });
      assert.equal(typeof staged === "string" ? staged : staged.plan.kind, "put", String(size));
    }
    const given = await storage.stage(200_000, { expiresSeconds: 60, partSize: 1024 });
    assert.equal(typeof given === "string" ? given : given.plan.kind, "put");
  });
});
