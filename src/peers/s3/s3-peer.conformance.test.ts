/**
 * The Peer conformance suite against the special-remote Peers over an S3
 * bucket (s3rver on loopback): the plain one, and the chunked one.
 */

import assert from "node:assert/strict";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import {
  type RunningS3Server,
  S3RVER_CREDENTIALS,
  s3RemoteFields,
  startS3Server,
} from "../../../test/helpers/s3-server.js";
import { runPeerConformance } from "../conformance.js";
import type { Peer } from "../peer.js";
import { MemoryChunkLog } from "../special/chunk-log.fixture.js";
import { ChunkedPeer } from "../special/chunked-peer.js";
import { SpecialPeer } from "../special/special-peer.js";
import { createS3Client } from "./s3-client.js";
import { readS3Settings } from "./s3-settings.js";
import { S3Storage } from "./s3-storage.js";

/** A Peer over a fresh bucket on a fresh s3rver, made by `makePeer`. */
async function overS3(makePeer: (storage: S3Storage) => Peer) {
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
  const peer = makePeer(new S3Storage(client, settings));
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
}

const UUID = "0c9e3f7a-5b1d-4f2e-8a6c-3d7b9e1f0a25";

runPeerConformance(
  "SpecialPeer over S3",
  () => overS3((storage) => new SpecialPeer({ uuid: UUID, storage })),
  // Special remotes cannot lock content (Annex/Proxy.hs answers FAILURE);
  // an interrupted multipart upload is aborted, never kept for a resume.
  { locking: false, resume: false },
);

runPeerConformance(
  "ChunkedPeer over S3 (chunk=64KiB)",
  () =>
    overS3(
      (storage) =>
        new ChunkedPeer({
          uuid: UUID,
          storage,
          whole: new SpecialPeer({ uuid: UUID, storage }),
          chunkSize: 64 * 1024,
          chunkLog: new MemoryChunkLog(),
        }),
    ),
  { locking: false, resume: false },
);
