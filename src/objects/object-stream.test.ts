import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { after, before, describe, it } from "node:test";
import { sendsItself } from "../util/index.js";
import { ObjectFileStream } from "./object-stream.js";

describe("ObjectFileStream", () => {
  let dir = "";
  let file = "";
  const data = randomBytes(1024 * 1024 + 3);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "annexgate-object-stream-"));
    file = join(dir, "object");
    await writeFile(file, data);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A loopback server answering each GET with `serve`; the response's outcome is kept. */
  async function serving(
    serve: (res: ServerResponse) => Promise<void>,
  ): Promise<{ url: string; outcome: Promise<unknown>; server: Server }> {
    let settle: (v: unknown) => void = () => undefined;
    const outcome = new Promise((resolve) => {
      settle = resolve;
    });
    const server = createServer((_req, res) => {
      res.writeHead(200);
      serve(res).then(
        () => settle("sent"),
        (e: unknown) => settle(e),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, outcome, server };
  }

  it("reads as any Readable: the bytes from its start to its end, then ends", async () => {
    const s = new ObjectFileStream(file, 1000, data.length);
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(c as Buffer);
    assert.deepEqual(Buffer.concat(parts), data.subarray(1000));
    assert.equal(sendsItself(s), false, "once read, it no longer sends itself");
  });

  it("sends itself into a response: every byte, and ends as a stream for whoever watches it", async () => {
    const s = new ObjectFileStream(file, 7, data.length);
    assert.equal(sendsItself(s), true);
    const watched = finished(s);
    const { url, outcome, server } = await serving(async (res) => {
      await s.sendInto(res, Promise.resolve(true));
      res.end();
    });
    try {
      const got = Buffer.from(await (await fetch(url)).arrayBuffer());
      assert.ok(got.equals(data.subarray(7)), `${got.length} bytes`);
      assert.equal(await outcome, "sent");
      await watched;
    } finally {
      server.close();
    }
  });

  it("content found not valid at its end is sent one byte short", async () => {
    const s = new ObjectFileStream(file, 0, data.length);
    const { url, outcome, server } = await serving(async (res) => {
      await s.sendInto(res, Promise.resolve(false));
      res.end();
    });
    try {
      const got = Buffer.from(await (await fetch(url)).arrayBuffer());
      assert.ok(got.equals(data.subarray(0, data.length - 1)), `${got.length} bytes`);
      assert.equal(await outcome, "sent");
    } finally {
      server.close();
    }
  });

  it("stops when the reader goes away: the send rejects and the stream is destroyed", async () => {
    // Far more than loopback's socket buffers hold, so the send is still waiting.
    const big = join(dir, "big");
    await writeFile(big, Buffer.alloc(64 * 1024 * 1024, 7));
    const s = new ObjectFileStream(big, 0, 64 * 1024 * 1024);
    const { url, outcome, server } = await serving((res) => s.sendInto(res, Promise.resolve(true)));
    try {
      const aborter = new AbortController();
      const res = await fetch(url, { signal: aborter.signal });
      const reader = res.body?.getReader();
      await reader?.read();
      aborter.abort();
      const e = await outcome;
      assert.ok(e instanceof Error && /went away/.test(e.message), String(e));
      assert.equal(s.destroyed, true);
    } finally {
      server.close();
    }
  });

  it("a file shorter than the size it was opened for fails, saying so", async () => {
    const s = new ObjectFileStream(file, 0, data.length + 10);
    await assert.rejects(
      (async () => {
        for await (const _ of s) {
          // read to the end
        }
      })(),
      /shorter than its size/,
    );
  });

  it("a read that fails mid-send rejects the send, with no listener needed, and ends the stream", async () => {
    // Opened for more than the file holds: the read past its end fails.
    const s = new ObjectFileStream(file, 0, data.length + 10);
    const { url, outcome, server } = await serving((res) => s.sendInto(res, Promise.resolve(true)));
    try {
      await fetch(url)
        .then(
          (r) => r.arrayBuffer(),
          () => undefined,
        )
        .catch(() => undefined);
      const e = await outcome;
      assert.ok(e instanceof Error && /shorter than its size/.test(e.message), String(e));
      assert.equal(s.destroyed, true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("does not send itself once a read has started, or a reader is attached", () => {
    const started = new ObjectFileStream(file, 0, data.length);
    started.read(0);
    assert.equal(sendsItself(started), false);
    started.destroy();
    const flowing = new ObjectFileStream(file, 0, data.length);
    flowing.on("data", () => undefined);
    assert.equal(sendsItself(flowing), false);
    flowing.destroy();
  });

  it("refuses to send itself once read", async () => {
    const s = new ObjectFileStream(file, 0, data.length);
    await new Promise<void>((resolve) => s.once("readable", () => resolve()));
    s.read();
    await assert.rejects(s.sendInto(new Writable(), Promise.resolve(true)), /already read/);
    s.destroy();
  });
});
