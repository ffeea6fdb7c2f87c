/** The Peer conformance suite against the special-remote Peer over an S3 bucket (s3rver on loopback). */

import assert from "node:assert/strict";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import {
  type RunningS3Server,
  S3RVER_CREDENTIALS,
  s3RemoteFields,
  startS3Server,
} from "../../../test/helpers/s3-server.js";
import { runPeerConformance } from "../conformance.js";
import { SpecialPeer } from "../special/special-peer.js";
import { createS3Client } from "./s3-client.js";
import { readS3Settings } from "./s3-settings.js";
import { S3Storage } from "./s3-storage.js";

runPeerConformance(
  "SpecialPeer over S3",
  async () => {
    const server: RunningS3Server = await startS3Server();
    const settings = readS3Settings({
      fields: {
        ...s3RemoteFields(server, "conformance"),
        // Parts of the smallest size S3 allows, so the larger samples span parts.
        partsize: "5MiB",
      },
      gitConfig: {},
    });
    const client = createS3Client(settings, S3RVER_CREDENTIALS);
    await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
    const peer = new SpecialPeer({
      uuid: "0c9e3f7a-5b1d-4f2e-8a6c-3d7b9e1f0a25",
      storage: new S3Storage(client, settings),
    });
    return {
      peer,
      cleanup: async () => {
        // Interrupted, mismatched and aborted stores left no upload behind.
        const pending = await server.pendingUploads(settings.bucket);
        await peer.close();
        await server.close();
        assert.deepEqual(pending, [], "incomplete multipart uploads left in the bucket");
      },
    };
  },
  // Special remotes cannot lock content (Annex/Proxy.hs answers FAILURE);
  // an interrupted multipart upload is aborted, never kept for a resume.
  { locking: false, resume: false },
);
