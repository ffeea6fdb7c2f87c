import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ObjectFileStream } from "../../objects/object-stream.js";
import { sendContent } from "./send-content.js";

describe("sendContent", () => {
  it("cuts the response short when an object file fails mid-send: the client does not wait", {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "annexgate-send-content-"));
    const file = join(dir, "object");
    await writeFile(file, Buffer.alloc(1024 * 1024, 1));
    let failure: unknown = null;
    const server = createServer((_req, res) => {
      res.writeHead(200);
      // Promised more than the file holds.
      const data = new ObjectFileStream(file, 0, 2 * 1024 * 1024);
      sendContent({ length: 2 * 1024 * 1024, data, valid: Promise.resolve(true) }, res).catch(
        (e: unknown) => {
          failure = e;
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const res = await fetch(url);
      await assert.rejects(res.arrayBuffer());
      assert.ok(failure instanceof Error && /shorter than its size/.test(failure.message));
    } finally {
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
