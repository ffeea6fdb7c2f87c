import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { indirectRefusal, stagingDeadline } from "./s3-indirect.js";

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
    assert.deepEqual(indirectRefusal(config({ exporttree: "yes", annexobjects: "yes" })), {
      unavailable: "the remote is an export remote",
    });
  });
});

describe("staging names", () => {
  it("carry their deadline; nothing else is taken for one", () => {
    assert.equal(stagingDeadline(`annexgate-indirect/1700000000-${"ab".repeat(16)}`), 1700000000);
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
