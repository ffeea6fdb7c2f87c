/** readS3Settings: git-annex's reading of an S3 remote's remote.log fields. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  objectName,
  readS3Settings,
  S3SettingsError,
  s3UrlOrigins,
  uuidObjectName,
} from "./s3-settings.js";

const read = (fields: Record<string, string>) =>
  readS3Settings({ fields: { type: "S3", ...fields }, gitConfig: {} });

describe("readS3Settings", () => {
  it("reads what stock initremote wrote for a loopback server", () => {
    const s = read({
      bucket: "MyBucket",
      datacenter: "us-east-1",
      encryption: "none",
      host: "127.0.0.1",
      port: "9000",
      protocol: "http",
      requeststyle: "path",
      signature: "v4",
      storageclass: "STANDARD",
    });
    assert.equal(s.bucket, "mybucket", "lower-cased, as getBucketName does");
    assert.equal(s.endpoint, "http://127.0.0.1:9000");
    assert.equal(s.region, "us-east-1");
    assert.equal(s.pathStyle, true);
    assert.equal(s.partSize, undefined);
    assert.equal(s.publicRead, false);
  });

  it("uses the datacenter's AWS host and region for the default host", () => {
    const us = read({ bucket: "b", host: "s3.amazonaws.com", port: "80", datacenter: "US" });
    assert.equal(us.endpoint, "http://s3.amazonaws.com:80");
    assert.equal(us.region, "us-east-1");
    const eu = read({ bucket: "b", datacenter: "EU", protocol: "https" });
    assert.equal(eu.endpoint, "https://s3-eu-west-1.amazonaws.com:443");
    assert.equal(eu.region, "eu-west-1");
    const other = read({ bucket: "b", datacenter: "ap-south-1", port: "443" });
    assert.equal(other.endpoint, "https://s3-ap-south-1.amazonaws.com:443");
    assert.equal(read({ bucket: "b", datacenter: "US", region: "us-west-2" }).region, "us-west-2");
  });

  it("port 80 with https is 443, as git-annex overrides it", () => {
    assert.equal(
      read({ bucket: "b", host: "minio.example", port: "80", protocol: "https" }).endpoint,
      "https://minio.example:443",
    );
  });

  it("names objects fileprefix + key, and the UUID object fileprefix + annex-uuid", () => {
    const s = read({ bucket: "b", fileprefix: "annex/" });
    assert.equal(objectName(s, "SHA256E-s1--ab"), "annex/SHA256E-s1--ab");
    assert.equal(uuidObjectName(s), "annex/annex-uuid");
    assert.equal(uuidObjectName(read({ bucket: "b" })), "annex-uuid");
  });

  it("reads metadata, storage class, tagging, partsize and public", () => {
    const s = read({
      bucket: "b",
      "x-amz-meta-project": "demo",
      "x-amz-meta-owner": "lab",
      storageclass: "STANDARD_IA",
      tagging: "a=1&b=2",
      partsize: "1GiB",
      public: "yes",
      publicurl: "https://b.example/",
    });
    assert.deepEqual(s.metadata, { project: "demo", owner: "lab" });
    assert.equal(s.storageClass, "STANDARD_IA");
    assert.equal(s.tagging, "a=1&b=2");
    assert.equal(s.partSize, 1024 ** 3);
    assert.equal(s.publicRead, true);
    assert.equal(s.publicUrl, "https://b.example/");
    // git-annex reads an unreadable partsize, or 0, as none.
    assert.equal(read({ bucket: "b", partsize: "lots" }).partSize, undefined);
    assert.equal(read({ bucket: "b", partsize: "0" }).partSize, undefined);
  });

  it("refuses what git-annex refuses, in its words", () => {
    const refused = (fields: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => read(fields),
        (e) => e instanceof S3SettingsError && message.test(e.message),
      );
    refused({}, /^S3 bucket not configured$/);
    refused({ bucket: "b", requeststyle: "virtual" }, /^bad S3 requeststyle value: virtual$/);
    refused({ bucket: "b", protocol: "ftp" }, /^bad S3 protocol value: ftp$/);
    refused({ bucket: "b", port: "http" }, /^bad S3 port value: http$/);
  });

  it("refuses what annexgate does not serve yet", () => {
    for (const [fields, message] of [
      [{ versioning: "yes" }, /versioned/],
      [{ exporttree: "yes" }, /annexobjects/],
      [{ importtree: "yes" }, /import/],
      [{ mungekeys: "ia" }, /Internet Archive/],
      [{ host: "s3.us.archive.org" }, /Internet Archive/],
      [{ signature: "anonymous" }, /anonymous/],
    ] as const) {
      assert.throws(
        () => read({ bucket: "b", ...fields }),
        (e) =>
          e instanceof S3SettingsError &&
          message.test(e.message) &&
          /not supported yet/.test(e.message),
      );
    }
  });

  it("names the origins a web page uploading to the remote must reach", () => {
    const origins = (fields: Record<string, string>) =>
      s3UrlOrigins({ fields: { type: "S3", ...fields }, gitConfig: {} });
    const loopback = { host: "127.0.0.1", port: "9000", protocol: "http" };
    assert.deepEqual(origins({ bucket: "b", ...loopback, requeststyle: "path" }), [
      "http://127.0.0.1:9000",
    ]);
    assert.deepEqual(origins({ bucket: "b", ...loopback }), ["http://127.0.0.1:9000"]);
    assert.deepEqual(origins({ bucket: "My", datacenter: "EU", protocol: "https" }), [
      "https://s3-eu-west-1.amazonaws.com",
      "https://my.s3-eu-west-1.amazonaws.com",
    ]);
    assert.deepEqual(origins({ bucket: "b", versioning: "yes" }), []);
  });
});
