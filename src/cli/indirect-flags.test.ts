import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_INDIRECT_SETTINGS } from "../proxy/index.js";
import { indirectSettings } from "./indirect-flags.js";
import { UsageError } from "./usage.js";

describe("the --indirect-* flags", () => {
  it("are off unless --indirect-uploads is given, and then take the defaults", () => {
    assert.equal(indirectSettings({}), undefined);
    assert.deepEqual(indirectSettings({ "indirect-uploads": true }), DEFAULT_INDIRECT_SETTINGS);
  });

  it("read their values", () => {
    assert.deepEqual(
      indirectSettings({
        "indirect-uploads": true,
        "indirect-expires": "60",
        "indirect-verify": "size",
        "indirect-part-size": "5MiB",
        "indirect-max-pending": "10",
        "indirect-max-pending-per-client": "2",
      }),
      {
        expiresSeconds: 60,
        verify: "size",
        partSize: 5 * 1024 * 1024,
        maxPending: 10,
        maxPendingPerClient: 2,
      },
    );
  });

  it("refuse what they cannot use, and tuning without --indirect-uploads", () => {
    for (const flags of [
      { "indirect-expires": "60" },
      { "indirect-uploads": true, "indirect-expires": "0" },
      { "indirect-uploads": true, "indirect-expires": "604801" },
      { "indirect-uploads": true, "indirect-verify": "hash" },
      { "indirect-uploads": true, "indirect-part-size": "lots" },
      { "indirect-uploads": true, "indirect-part-size": "6GiB" },
      // Under S3's smallest part: its CompleteMultipartUpload would refuse the upload.
      { "indirect-uploads": true, "indirect-part-size": "1" },
      { "indirect-uploads": true, "indirect-part-size": "64KiB" },
      { "indirect-uploads": true, "indirect-part-size": "5242879" },
      { "indirect-uploads": true, "indirect-max-pending": "-1" },
    ]) {
      assert.throws(() => indirectSettings(flags), UsageError, JSON.stringify(flags));
    }
  });

  it("take S3's smallest part, 5MiB, and no less", () => {
    const at = indirectSettings({ "indirect-uploads": true, "indirect-part-size": "5242880" });
    assert.equal(at?.partSize, 5 * 1024 * 1024);
  });
});
